"""What is wrong with an event, said so a person can fix it: every problem names the field
path, the value given (cut to 100 characters) and what is expected, in Russian or English.

The webhook's 400 answer and ``vestnik validate`` build their problems here, so both say
the same thing in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

VALUE_LIMIT = 100
_NOTHING = object()

# what is expected, per problem code; {placeholders} come from the problem's context
EXPECTED: dict[str, dict[str, str]] = {
    "missing": {"ru": "обязательное поле", "en": "a required field"},
    "string": {"ru": "строка", "en": "a string"},
    "string_too_short": {
        "ru": "строка не короче {min_length} симв.",
        "en": "a string of at least {min_length} characters",
    },
    "string_too_long": {
        "ru": "строка не длиннее {max_length} симв.",
        "en": "a string of at most {max_length} characters",
    },
    "event_type": {
        "ru": "тип события: латиница в нижнем регистре, цифры и _, например order_booked",
        "en": "an event type: lower-case latin letters, digits and _, e.g. order_booked",
    },
    "integer": {"ru": "целое число", "en": "an integer"},
    "int64": {"ru": "целое число от -2^63 до 2^63-1", "en": "an integer from -2^63 to 2^63-1"},
    "number": {"ru": "число", "en": "a number"},
    "finite_number": {
        "ru": "конечное число (не NaN и не бесконечность)",
        "en": "a finite number (not NaN or infinity)",
    },
    "number_range": {"ru": "число по модулю меньше 10^15", "en": "a number below 10^15 in size"},
    "datetime": {
        "ru": "дата и время RFC 3339, например 2026-11-27T09:00:00+03:00",
        "en": "an RFC 3339 date and time, e.g. 2026-11-27T09:00:00+03:00",
    },
    "date_range": {
        "ru": "дата с 1900 по 2999 год (пустая дата 1С 0001-01-01 значит «не задано»)",
        "en": 'a date from year 1900 to 2999 (1C\'s empty date 0001-01-01 means "not set")',
    },
    "no_such_date": {
        "ru": "существующая дата ГГГГ-ММ-ДД (такой даты нет)",
        "en": "a date that exists, YYYY-MM-DD (there is no such date)",
    },
    "date": {"ru": "дата ГГГГ-ММ-ДД или --ММ-ДД", "en": "a date YYYY-MM-DD or --MM-DD"},
    "language": {
        "ru": "язык, для которого есть тексты: ru или en",
        "en": "a language we have texts for: ru or en",
    },
    "object": {"ru": "объект JSON {{...}}", "en": "a JSON object {{...}}"},
    "list": {"ru": "список JSON [...]", "en": "a JSON list [...]"},
    "boolean": {"ru": "true или false", "en": "true or false"},
    "event_or_batch": {
        "ru": 'объект события или {{"events": [...]}}',
        "en": 'an event object or {{"events": [...]}}',
    },
    "batch_not_empty": {"ru": "хотя бы одно событие", "en": "at least one event"},
    "batch_size": {
        "ru": "не больше {limit} событий в запросе",
        "en": "at most {limit} events per request",
    },
    "depth": {
        "ru": "вложенность не глубже {limit} уровней",
        "en": "nesting at most {limit} levels deep",
    },
    "big_integer": {
        "ru": "целое число не длиннее {limit} цифр",
        "en": "an integer of at most {limit} digits",
    },
    "json_number": {
        "ru": "число JSON (NaN и Infinity в JSON не бывает)",
        "en": "a JSON number (JSON has no NaN or Infinity)",
    },
    "unicode": {
        "ru": "текст Unicode без одиночных суррогатов (\\ud800-\\udfff)",
        "en": "Unicode text without lone surrogates (\\ud800-\\udfff)",
    },
    "no_nul": {
        "ru": "текст без символа NUL (\\u0000)",
        "en": "text without the NUL character (\\u0000)",
    },
    "id_string": {
        "ru": "идентификатор: строка или целое число",
        "en": "an identifier: a string or an integer",
    },
    "phone": {
        "ru": "номер телефона, например +7 916 123-45-67",
        "en": "a phone number, e.g. +7 916 123-45-67",
    },
    "unique_id": {
        "ru": "id, который встречается в файле один раз",
        "en": "an id that occurs once in the file",
    },
    "columns": {
        "ru": "столько же значений, сколько колонок в заголовке ({limit})",
        "en": "as many values as the header has columns ({limit})",
    },
}

_GIVEN = {"ru": "получено", "en": "given"}
_EXPECTED_WORD = {"ru": "ожидается", "en": "expected"}
_ABSENT = {"ru": "ничего", "en": "nothing"}

# pydantic's error types -> our codes
PYDANTIC_CODES = {
    "missing": "missing",
    "string_type": "string",
    "string_too_short": "string_too_short",
    "string_too_long": "string_too_long",
    "string_pattern_mismatch": "event_type",
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "int_parsing_size": "int64",
    "greater_than_equal": "int64",
    "less_than": "int64",
    "decimal_type": "number",
    "decimal_parsing": "number",
    "finite_number": "finite_number",
    "datetime_type": "datetime",
    "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
    "datetime_object_invalid": "datetime",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
    "list_type": "list",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
}


def show_value(value: Any) -> str:
    """The value given, as the sender wrote it, cut to :data:`VALUE_LIMIT` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # a lone surrogate cannot be written back as UTF-8: show it escaped
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def problem(
    path: str, code: str, language: str, value: Any = _NOTHING, **context: Any
) -> dict[str, Any]:
    """One problem: ``{"path", "value", "expected", "message"}`` (``value`` absent when
    nothing was given)."""
    lang = language if language in ("ru", "en") else "ru"
    expected = EXPECTED[code][lang].format(**context)
    out: dict[str, Any] = {"path": path or "(event)", "code": code}
    given = _ABSENT[lang]
    if value is not _NOTHING:
        out["value"] = given = show_value(value)
    out["expected"] = expected
    out["message"] = f"{out['path']}: {_GIVEN[lang]} {given}; {_EXPECTED_WORD[lang]} {expected}"
    return out


def join_path(prefix: str, loc: tuple[Any, ...] | list[Any]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def from_pydantic(prefix: str, err: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A pydantic error as our problem; a validator of ours says its code as the message."""
    loc = [part for part in err["loc"] if not str(part).startswith("function-")]
    path = join_path(prefix, loc)
    code = PYDANTIC_CODES.get(err["type"])
    context = dict(err.get("ctx") or {})
    if err["type"] == "value_error":
        code = str(context.get("error", "")) or None
        code = code if code in EXPECTED else None
    if code is None:  # a kind we have no words for: pydantic's own, in English
        code = "unknown"
        lang = language if language in ("ru", "en") else "ru"
        expected = err["msg"]
        out = {
            "path": path or "(event)",
            "code": code,
            "value": show_value(err.get("input")),
            "expected": expected,
        }
        out["message"] = (
            f"{out['path']}: {_GIVEN[lang]} {out['value']}; {_EXPECTED_WORD[lang]}: {expected}"
        )
        return out
    value = _NOTHING if err["type"] == "missing" else err.get("input")
    return problem(path, code, language, value, **context)
