"""The journal API's parameters, each checked before the database sees it: a 400 says which
parameter, what was given and what is allowed (in Russian, English by Accept-Language)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.channels import CHANNELS
from bot.pipeline.intake import answer_language
from bot.pipeline.problems import show_value
from storage.models import JOURNAL_STATUSES
from storage.tx_journal import JournalFilter

MAX_LIMIT = 1000
MAX_ID = 2**63 - 1  # BIGINT
TEXT_KEYS = ("event_id", "address", "order")
KNOWN = ("status", "channel", "limit", "before_id", *TEXT_KEYS)

_WORDS = {
    "limit": {
        "ru": "limit — целое число от 1 до {max}, получено {value!r}",
        "en": "limit must be a whole number from 1 to {max}, got {value!r}",
    },
    "before_id": {
        "ru": "before_id — номер строки журнала от 1 до {max_id}, получено {value!r}",
        "en": "before_id must be a journal row id from 1 to {max_id}, got {value!r}",
    },
    "status": {
        "ru": "status — один из: {allowed}; получено {value!r}",
        "en": "status must be one of {allowed}; got {value!r}",
    },
    "channel": {
        "ru": "channel — один из: {allowed}; получено {value!r}",
        "en": "channel must be one of {allowed}; got {value!r}",
    },
    "text": {
        "ru": "{key} — текст до 200 символов без NUL, получено {value!r}",
        "en": "{key} must be text of up to 200 characters without NUL, got {value!r}",
    },
    "unknown": {
        "ru": "неизвестный параметр {key!r}; есть: {allowed}",
        "en": "unknown parameter {key!r}; known: {allowed}",
    },
    "id": {
        "ru": "номер строки журнала — целое число от 1 до {max_id}, получено {value!r}",
        "en": "a journal row id is a whole number from 1 to {max_id}, got {value!r}",
    },
}


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def language_of(headers: Mapping[str, str], default: str) -> str:
    return answer_language(headers.get("Accept-Language"), default)


def _say(code: str, lang: str, **values: object) -> str:
    return _WORDS[code][lang].format(max=MAX_LIMIT, max_id=MAX_ID, **values)


def _whole(value: str, low: int, high: int) -> int | None:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if low <= number <= high else None


def journal_filter(query: Mapping[str, str], lang: str) -> JournalFilter:
    """``GET /journal``'s query as a filter; :class:`BadParameter` for the first bad one."""
    for key in query:
        if key not in KNOWN:
            raise BadParameter(
                key, _say("unknown", lang, key=show_value(key), allowed=", ".join(KNOWN))
            )
    flt = JournalFilter()
    limit = query.get("limit", "50")
    flt["limit"] = _whole(limit, 1, MAX_LIMIT)
    if flt["limit"] is None:
        raise BadParameter("limit", _say("limit", lang, value=show_value(limit)))
    for key, allowed in (("status", JOURNAL_STATUSES), ("channel", CHANNELS)):
        value = query.get(key)
        if value:
            if value not in allowed:
                raise BadParameter(
                    key, _say(key, lang, value=show_value(value), allowed=", ".join(allowed))
                )
            flt[key] = value
    if query.get("before_id"):
        flt["before_id"] = _whole(query["before_id"], 1, MAX_ID)
        if flt["before_id"] is None:
            raise BadParameter(
                "before_id", _say("before_id", lang, value=show_value(query["before_id"]))
            )
    for key in TEXT_KEYS:
        value = query.get(key)
        if value:
            if len(value) > 200 or "\x00" in value:
                raise BadParameter(key, _say("text", lang, key=key, value=show_value(value)))
            flt[key] = value
    return flt


def row_id(raw: str, lang: str) -> int:
    number = _whole(raw, 1, MAX_ID)
    if number is None:
        raise BadParameter("id", _say("id", lang, value=show_value(raw)))
    return number
