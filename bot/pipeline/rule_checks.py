"""What a rule file is checked for at import beyond its shape: every template compiles,
header-bound texts carry no line breaks, recipients are in the allowed forms. A stored rule
is not re-checked when it is loaded (a rule stored by an older version still loads; its bad
row fails alone)."""

from __future__ import annotations

import re
from typing import Any

from bot.pipeline.templates import syntax_problem

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_STAFF = re.compile(r"staff:[^\s\x00-\x1f\x7f]{1,128}")
_CHAT = re.compile(r"chat:-?\d{1,19}")
_ROLES = ("customer", "manager", "master", "author", "responsible")
CHAT_ID_LIMIT = 2**63  # Telegram chat ids are signed 64-bit


def _line_breaks(value: str) -> bool:
    return bool(_CONTROL.search(value))


def recipient_problem(item: str) -> str | None:
    if item in _ROLES or _STAFF.fullmatch(item):
        return None
    if _CHAT.fullmatch(item) and abs(int(item[5:])) < CHAT_ID_LIMIT:
        return None
    return (
        f"{item[:100]!r} is not an allowed recipient: use customer, manager, master, "
        "author, responsible, staff:<id> (no spaces) or chat:<64-bit telegram chat id>"
    )


def import_problems(rule: Any) -> list[tuple[str, str]]:
    """(key, problem) for each thing wrong with one validated ``rules.Rule`` (typed loosely:
    rules.py calls this module, not the other way round)."""
    out: list[tuple[str, str]] = []
    for key in ("name", "sender_name", "subject", "email_account", "modem"):
        value = getattr(rule, key)
        if isinstance(value, str) and _line_breaks(value):
            out.append(
                (
                    key,
                    "must be one line: no CR, LF or other control characters "
                    "(it goes into a message header)",
                )
            )
    for portal in rule.portals:
        if _line_breaks(portal):
            out.append(("sms_portal", "must be one line: no control characters"))
    for index, item in enumerate(rule.recipients):
        problem = recipient_problem(item)
        if problem:
            out.append((f"recipients.{index}", problem))
    for key in ("subject", "body", "html"):
        source = getattr(rule, key)
        if source is not None:
            problem = syntax_problem(source)
            if problem:
                out.append((key, problem))
    return out
