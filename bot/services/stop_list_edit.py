"""Adding and removing stop list entries from a form: who (a phone in any format, an
e-mail, a customer id, ``chat:<id>``), an event type or all, a channel or all, a reason;
the author is the staff member signed in. Problems come back as text keys, per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.channels import CHANNELS
from bot.core.phones import normalize_phone
from storage.base import Storage
from storage.models import StopEntry

EVENT_TYPE = re.compile(r"^([a-z][a-z0-9_]{0,63}|\*)$")
WHO_KINDS = ("customer", "phone", "email", "chat")
MAX_REASON = 500


@dataclass(slots=True)
class StopForm:
    who: str = ""
    event_type: str = "*"
    channel: str = "*"
    reason: str = ""
    problems: dict[str, str] = field(default_factory=dict)  # field -> text key


def parse_who(raw: str, region: str) -> tuple[str, str] | None:
    """(kind, value): ``phone:``/``email:``/``customer:``/``chat:`` prefixes, or guessed:
    an ``@`` is an e-mail, ten digits or a ``+`` a phone, anything else a customer id."""
    raw = raw.strip()
    kind, sep, value = raw.partition(":")
    if sep and kind in WHO_KINDS and value.strip():
        value = value.strip()
        if kind == "phone":
            phone = normalize_phone(value, region)
            return ("phone", phone) if phone else None
        if kind == "chat":
            return ("chat", value) if value.lstrip("-").isdigit() else None
        return (kind, value.lower() if kind == "email" else value)
    if not raw:
        return None
    if "@" in raw:
        return ("email", raw.lower())
    if raw.startswith("+") or sum(ch.isdigit() for ch in raw) >= 10:
        phone = normalize_phone(raw, region)
        if phone:
            return ("phone", phone)
    return ("customer", raw)


def check_form(form: StopForm, region: str) -> tuple[str, str] | None:
    """The parsed who, with ``form.problems`` filled for every bad field."""
    who = parse_who(form.who, region)
    if who is None:
        form.problems["who"] = "stop.bad_who"
    if not EVENT_TYPE.match(form.event_type):
        form.problems["event_type"] = "stop.bad_type"
    if form.channel != "*" and form.channel not in CHANNELS:
        form.problems["channel"] = "stop.bad_channel"
    if len(form.reason) > MAX_REASON:
        form.problems["reason"] = "stop.long_reason"
    return who if not form.problems else None


async def add_entry(
    storage: Storage, form: StopForm, *, region: str, author: str, now: datetime
) -> StopEntry | None:
    """The saved entry, or None with ``form.problems`` saying why."""
    who = check_form(form, region)
    if who is None:
        return None
    entry = StopEntry(
        who=who[1],
        who_kind=who[0],
        event_type=form.event_type,
        channel=form.channel,
        reason=form.reason.strip(),
        author=author,
        created_at=now,
    )
    return await storage.write(lambda tx: tx.add_stop(entry))


async def remove_entry(storage: Storage, entry_id: int) -> bool:
    return await storage.write(lambda tx: tx.remove_stop(entry_id))


async def get_entry(storage: Storage, entry_id: int) -> StopEntry | None:
    async with storage.reader() as tx:
        return await tx.get_stop(entry_id)


async def find_entries(
    storage: Storage, text: str, *, limit: int = 100, offset: int = 0
) -> list[StopEntry]:
    async with storage.reader() as tx:
        return await tx.search_stops(text, limit=limit, offset=offset)
