"""The webhook body from bytes to JSON values we can store: UTF-8 only (the byte offset of the
first byte that is not), JSON numbers only (no NaN or Infinity, no integer longer than
:data:`MAX_INT_DIGITS`), nesting at most :data:`MAX_DEPTH`, strings that UTF-8 and both
databases can hold (no lone surrogates, no NUL).

Every refusal is a problem with the path of the value, so a batch names the event at fault.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bot.pipeline.problems import problem

MAX_DEPTH = 64
MAX_INT_DIGITS = 4300  # Python's own limit for int(str)

_HINT_1251 = {
    "ru": "Тело запроса должно быть в UTF-8: байт 0x{byte:02X} на позиции {offset} "
    "не UTF-8 (похоже на Windows-1251: перекодируйте в UTF-8)",
    "en": "The body must be UTF-8: byte 0x{byte:02X} at offset {offset} is not "
    "UTF-8 (it looks like Windows-1251: re-encode as UTF-8)",
}
_NOT_UTF8 = {
    "ru": "Тело запроса должно быть в UTF-8: байт 0x{byte:02X} на позиции {offset} не UTF-8",
    "en": "The body must be UTF-8: byte 0x{byte:02X} at offset {offset} is not UTF-8",
}
_TOO_DEEP = {
    "ru": "Тело запроса — JSON, вложенный слишком глубоко (больше {limit} уровней)",
    "en": "The body is JSON nested too deep (more than {limit} levels)",
}


class BodyError(Exception):
    """The body is not JSON at all: ``message`` in the asked language, ``detail`` technical."""

    def __init__(self, message: str, code: str = "invalid_json") -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # invalid_json, not_utf8 or too_deep


class _Refused:
    """A JSON value we parsed but will not keep (kept in place so its path can be named)."""

    def __init__(self, code: str, text: str, **context: Any) -> None:
        self.code = code
        self.text = text
        self.context = context


def _parse_int(text: str) -> Any:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused("big_integer", text[:40] + "…", limit=MAX_INT_DIGITS)
    return int(text)


def _parse_float(text: str) -> Any:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to infinity
        return _Refused("json_number", text)
    return value


def _parse_constant(text: str) -> Any:
    return _Refused("json_number", text)


def decode_json(raw: bytes, language: str) -> Any:
    """Bytes to JSON values; raise :class:`BodyError` for what is not UTF-8 JSON at all."""
    lang = language if language in ("ru", "en") else "ru"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # the offset in the bytes as sent (a BOM is valid UTF-8, so plain utf-8 finds it)
        try:
            raw.decode("utf-8")
            offset = 0
        except UnicodeDecodeError as exc:
            offset = exc.start
        # Cyrillic in Windows-1251 is mostly 0xC0-0xFF, which UTF-8 uses only to lead
        looks_1251 = sum(1 for b in raw if b >= 0xC0) > sum(1 for b in raw if 0x80 <= b < 0xC0)
        words = _HINT_1251 if looks_1251 else _NOT_UTF8
        raise BodyError(words[lang].format(byte=raw[offset], offset=offset), "not_utf8") from None
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except RecursionError:
        raise BodyError(_TOO_DEEP[lang].format(limit=MAX_DEPTH), "too_deep") from None
    except json.JSONDecodeError as exc:
        where = {
            "ru": f"строка {exc.lineno}, столбец {exc.colno}",
            "en": f"line {exc.lineno}, column {exc.colno}",
        }[lang]
        raise BodyError(f"{exc.msg} ({where})") from None
    except ValueError as exc:  # anything else json refuses (kept as its own words)
        raise BodyError(str(exc)) from None


def _string_code(text: str) -> str | None:
    if text.isascii():
        return "no_nul" if "\x00" in text else None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "unicode"
    return "no_nul" if "\x00" in text else None


def scan(value: Any, prefix: str, language: str) -> list[dict[str, Any]]:
    """Every value in ``value`` we would not store, with its path (iterative: no recursion)."""
    problems: list[dict[str, Any]] = []
    stack: list[tuple[str, Any, int]] = [(prefix, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                problems.append(problem(path, "depth", language, "{…}", limit=MAX_DEPTH))
                continue
            for key, child in item.items():
                code = _string_code(key)
                if code is not None:
                    problems.append(problem(path, code, language, key))
                    continue
                stack.append((f"{path}.{key}" if path else key, child, depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                problems.append(problem(path, "depth", language, "[…]", limit=MAX_DEPTH))
                continue
            for index, child in enumerate(item):
                stack.append((f"{path}[{index}]", child, depth + 1))
        elif isinstance(item, str):
            code = _string_code(item)
            if code is not None:
                problems.append(problem(path, code, language, item))
        elif isinstance(item, _Refused):
            problems.append(problem(path, item.code, language, item.text, **item.context))
    problems.sort(key=lambda p: p["path"])
    return problems
