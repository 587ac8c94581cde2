"""Journal queries shared by the bot's /journal and ``vestnik journal``: what a typed query
means, pages of a filtered view, one row (a resend is bot/services/resend.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.config import Config
from bot.core.phones import normalize_phone
from bot.core.timeutil import Clock
from storage.base import Storage
from storage.models import JournalRow
from storage.tx_journal import JournalFilter

LATEST = 10
LIST_CAP = 50  # rows in one listing; narrower queries show the rest
MAX_PAGES = 100  # a view pages through its newest PAGE_SIZE * MAX_PAGES rows
PAGE_SIZE = 10


@dataclass(slots=True)
class JournalQuery:
    title: str  # journal.what.* key
    value: str = ""
    filters: list[JournalFilter] = field(default_factory=list)
    row_id: int | None = None


def local_midnight(clock: Clock, config: Config) -> datetime:
    local = clock.now().astimezone(config.service.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def journal_query(arg: str, storage: Storage, config: Config, clock: Clock) -> JournalQuery:
    """``failed``, ``today``, ``#id``/a short number, a phone, else an order number."""
    if not arg:
        return JournalQuery("latest", filters=[JournalFilter(limit=LATEST)])
    if arg.lower() == "failed":
        return JournalQuery(
            "failed",
            filters=[
                JournalFilter(status=status, limit=LATEST) for status in ("failed", "undelivered")
            ],
        )
    if arg.lower() == "today":
        return JournalQuery(
            "today",
            filters=[JournalFilter(since=local_midnight(clock, config), limit=LIST_CAP + 1)],
        )
    plain = arg.lstrip("#")
    if (
        plain.isdigit()
        and len(plain) <= 12
        and (arg.startswith("#") or len(plain) < 10)
        and not plain.startswith("0")
    ):  # 000123 is an order number, not row 123
        return JournalQuery(
            "order",
            value=plain,
            row_id=int(plain),
            filters=[JournalFilter(order=plain, limit=LIST_CAP + 1)],
        )
    phone = normalize_phone(arg, config.service.default_region)
    if phone is not None:
        addresses = [phone]
        async with storage.reader() as tx:
            link = await tx.find_active_link(phone=phone)
            if link is not None:
                addresses.append(str(link.chat_id))
            for kind in ("customer", "staff"):
                person = await tx.find_person_by_phone(kind, phone)
                if person is not None and person.email:
                    addresses.append(person.email.strip())
        return JournalQuery(
            "phone",
            value=phone,
            filters=[
                JournalFilter(address=a, limit=LIST_CAP + 1) for a in dict.fromkeys(addresses)
            ],
        )
    return JournalQuery("order", value=arg, filters=[JournalFilter(order=arg, limit=LIST_CAP + 1)])


async def run_query(storage: Storage, query: JournalQuery) -> list[JournalRow]:
    """The rows of every filter of ``query``, newest first, each once."""
    found: dict[int, JournalRow] = {}
    async with storage.reader() as tx:
        for flt in query.filters:
            for row in await tx.list_journal(flt):
                found[row.id or 0] = row
    return sorted(found.values(), key=lambda r: r.id or 0, reverse=True)


FAILED_STATUSES = ("failed", "undelivered")


@dataclass(frozen=True, slots=True)
class JournalView:
    """A page of the journal as the bot's buttons choose it."""

    scope: str = "all"  # all | failed | today
    channel: str = ""
    status: str = ""
    page: int = 0


async def view_page(
    storage: Storage, view: JournalView, config: Config, clock: Clock, per_page: int = PAGE_SIZE
) -> tuple[list[JournalRow], bool]:
    """(rows of ``view.page``, whether a next page exists)."""
    page = max(0, min(view.page, MAX_PAGES - 1))
    flt = JournalFilter(limit=per_page * (page + 1) + 1)
    if view.status:
        flt["status"] = view.status
    if view.scope == "today":
        flt["since"] = local_midnight(clock, config)
    if view.channel:
        flt["channel"] = view.channel
    # "failed" is what staff must look at: failed sends and undelivered ones alike
    statuses = FAILED_STATUSES if view.scope == "failed" else (flt.get("status"),)
    rows: list[JournalRow] = []
    async with storage.reader() as tx:
        for status in statuses:
            rows += await tx.list_journal(JournalFilter({**flt, "status": status}))
    rows.sort(key=lambda row: row.id or 0, reverse=True)
    chunk = rows[page * per_page : (page + 1) * per_page]
    return chunk, len(rows) > (page + 1) * per_page


async def get_row(storage: Storage, row_id: int) -> JournalRow | None:
    async with storage.reader() as tx:
        return await tx.get_journal(row_id)


async def latest_rows(storage: Storage, *, status: str | None, limit: int) -> list[JournalRow]:
    async with storage.reader() as tx:
        return await tx.list_journal(JournalFilter(status=status, limit=limit))
