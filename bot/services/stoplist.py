"""The stop list for the bot and ``vestnik stoplist``: add (validated), remove, pages, and
who a journal row's recipient is when staff press "Stop this person"."""

from __future__ import annotations

import re
from datetime import datetime

from bot.core.channels import CHANNELS, TABLE
from bot.services.who import parse_who
from storage.base import Storage
from storage.models import JournalRow, StopEntry

EVENT_TYPE = re.compile(r"^([a-z][a-z0-9_]{0,63}|\*)$")
PAGE_SIZE = 8


class StopListError(ValueError):
    """``problem``: ``bad_type`` or ``bad_channel`` (texts ``stoplist.<problem>``)."""

    def __init__(self, problem: str, value: str) -> None:
        self.problem = problem
        self.value = value
        super().__init__(f"{problem}: {value}")


def new_entry(
    who: str,
    region: str,
    *,
    event_type: str = "*",
    channel: str = "*",
    reason: str = "",
    author: str,
    now: datetime | None,
) -> StopEntry:
    """A checked entry; :class:`~bot.services.who.WhoError` or :class:`StopListError`."""
    kind, value = parse_who(who, region)
    if not EVENT_TYPE.match(event_type):
        raise StopListError("bad_type", event_type)
    channel = channel.lower()
    if channel != "*" and channel not in CHANNELS:
        raise StopListError("bad_channel", channel)
    return StopEntry(
        who=value,
        who_kind=kind,
        event_type=event_type,
        channel=channel,
        reason=reason,
        author=author,
        created_at=now,
    )


async def add(storage: Storage, entry: StopEntry) -> StopEntry:
    saved = await storage.write(lambda tx: tx.add_stop(entry))
    await storage.notify_new_rows()  # other processes see the stop at once
    return saved


async def remove(storage: Storage, entry_id: int) -> bool:
    removed = await storage.write(lambda tx: tx.remove_stop(entry_id))
    await storage.notify_new_rows()
    return removed


async def page(
    storage: Storage, number: int, per_page: int = PAGE_SIZE
) -> tuple[list[StopEntry], bool]:
    """(entries of page ``number``, whether a next page exists)."""
    async with storage.reader() as tx:
        found = await tx.list_stops(limit=per_page + 1, offset=max(0, number) * per_page)
    return found[:per_page], len(found) > per_page


async def listing(storage: Storage, limit: int) -> list[StopEntry]:
    async with storage.reader() as tx:
        return await tx.list_stops(limit=limit)


# the stop-list kind of each channel's address (internal addresses staff: none)
ADDRESS_KIND = {
    name: spec.address for name, spec in TABLE.items() if spec.address in ("phone", "email", "chat")
}


def person_of(row: JournalRow) -> tuple[str, str] | None:
    """The stop-list key for a row's recipient: the customer, else its address."""
    if (
        row.recipient_role == "customer"
        and row.recipient_id
        and not row.recipient_id.startswith("phone:")
    ):
        return "customer", row.recipient_id
    kind = ADDRESS_KIND.get(row.channel)
    if kind and row.address:
        return kind, row.address
    return None
