"""The base of every settings section and the value syntaxes sections share: durations
(``"90m"``), clock times (``"09:00"``), quiet-hour windows (``"21:00-09:00"``), tokens and
e-mail addresses. Each is checked once here so every section words its errors alike."""

from __future__ import annotations

import re
from datetime import time, timedelta

from pydantic import BaseModel, ConfigDict

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
# one mailbox: local part, @, a domain with a dot; no spaces, commas or angle brackets
EMAIL_ADDRESS = re.compile(r"[^@\s,;<>\"()\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
MIN_TOKEN_LENGTH = 16


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def parse_duration(value: str | int | float) -> timedelta:
    """``"90m"``, ``"2h"``, ``"3d"``, ``"45s"`` or a number of seconds."""
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90m, 2h, 3d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def duration_key(value: str) -> str:
    """A field validator: the value must parse as a duration; it is kept as written."""
    parse_duration(value)
    return value


def hh_mm(value: str, empty_ok: bool = False) -> str:
    """A clock time ``"HH:MM"`` (or ``""`` for none when ``empty_ok``)."""
    if empty_ok and not value.strip():
        return ""
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise ValueError('use "HH:MM", e.g. "09:00"' + (' or "" for none' if empty_ok else ""))
    return value


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value or "")
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return time(h1, m1), time(h2, m2)


def check_token(raw: str) -> None:
    """Refuse tokens anyone could guess or send by accident: empty, blank, short, or with
    spaces/control characters (a Unicode space must never match a blank token)."""
    if not raw or raw.isspace() or not raw.strip():
        raise ValueError(
            "a token must not be empty or blank: use at least "
            f"{MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)"
        )
    if len(raw) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"a token of {len(raw)} characters is too short: use at least "
            f"{MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise ValueError("a token must not contain spaces or control characters")
