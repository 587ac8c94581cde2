"""The journal as the web pages search it: filters from the URL, one search box that takes a
phone in any format, an e-mail, an order number, a customer's name, an event id or a row
number, pages of 50 with a total, and resending one row or every failed row of a filter.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.config import Config
from bot.core.phones import normalize_phone
from storage.base import Storage, Tx
from storage.models import JOURNAL_STATUSES, JournalRow
from storage.tx_web import JournalSearch

PAGE_SIZE = 50
COUNT_CAP = 10_000  # counted exactly up to here (200 pages); beyond, "more than 10 000"
RESEND_CAP = 5000  # rows one "resend every failed row" press re-queues
# statuses a bulk resend takes: the failures (issue 16 adds "undelivered" to the list)
FAILED_STATUSES = tuple(s for s in JOURNAL_STATUSES if s in ("failed", "undelivered"))
FILTER_KEYS = ("status", "channel", "type", "rule", "from", "to", "q", "sort")
_EVENT_ID = re.compile(r"^[\w.:\-/#]{1,200}$", re.UNICODE)


@dataclass(slots=True)
class JournalQuery:
    """The URL's filters, checked; ``problems`` names the keys that could not be read."""

    values: dict[str, str] = field(default_factory=dict)
    search: JournalSearch = field(default_factory=JournalSearch)
    newest_first: bool = True
    page: int = 1
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class JournalPage:
    rows: list[JournalRow]
    total: int  # up to COUNT_CAP
    more_than_cap: bool
    page: int
    pages: int


def _local_day(text: str, tz: ZoneInfo, shift: int = 0) -> datetime | None:
    """Midnight of a ``YYYY-MM-DD`` day (plus ``shift`` days) in ``tz``; None for anything
    else, years far off included (they would overflow on the way to UTC)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if not 1900 <= day.year <= 9000:
        return None
    return datetime.combine(day, time(0), tz) + timedelta(days=shift)


async def search_terms(tx: Tx, q: str, region: str) -> dict[str, object]:
    """What one search box value may be, all at once: the JournalSearch alternatives."""
    q = " ".join(q.split())
    terms: dict[str, object] = {"searching": True}
    plain = q.lstrip("#")
    if plain.isdigit() and len(plain) <= 12 and not plain.startswith("0"):
        terms["row_id"] = int(plain)
    addresses: list[str] = []
    people: list[str] = []  # rows without an address (skipped, stopped) by recipient
    phone = normalize_phone(q, region) if sum(c.isdigit() for c in q) >= 5 else None
    if phone is not None:
        addresses.append(phone)
        link = await tx.find_active_link(phone=phone)
        if link is not None:
            addresses.append(str(link.chat_id))
        for kind in ("customer", "staff"):
            person = await tx.find_person_by_phone(kind, phone)
            if person is not None:
                people.append(person.id)
                if person.email:
                    addresses.append(person.email.strip())
    if "@" in q:
        addresses += [q, q.lower()]
    terms["addresses"] = tuple(dict.fromkeys(addresses))
    if " " not in q and len(q) <= 200:
        terms["order"] = q
        if _EVENT_ID.match(q):
            terms["event_id"] = q
    if len(q) >= 2 and all(ch.isalpha() or ch in " -'." for ch in q):  # names have no digits
        people += await tx.customer_ids_named(q)
    terms["recipient_ids"] = tuple(dict.fromkeys(people))
    return terms


async def read_query(storage: Storage, config: Config, params: Mapping[str, str]) -> JournalQuery:
    """The journal filters of a URL's query string."""
    query = JournalQuery(values={k: params.get(k, "").strip()[:200] for k in FILTER_KEYS})
    values, tz = query.values, config.service.tz
    fields: dict[str, object] = {}
    if values["status"] in JOURNAL_STATUSES:
        fields["statuses"] = (values["status"],)
    elif values["status"]:
        query.problems.append("status")
    for key, name in (("channel", "channel"), ("type", "event_type"), ("rule", "rule")):
        if values[key]:
            fields[name] = values[key]
    for key, name, shift in (("from", "since", 0), ("to", "until", 1)):
        if values[key]:
            moment = _local_day(values[key], tz, shift)
            if moment is None:
                query.problems.append(key)
            else:
                fields[name] = moment
    if values["q"]:
        async with storage.reader() as tx:
            fields.update(await search_terms(tx, values["q"], config.service.default_region))
    query.search = JournalSearch(**fields)  # type: ignore[arg-type]
    query.newest_first = values["sort"] != "asc"
    page = params.get("page", "1")
    query.page = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    return query


async def journal_page(storage: Storage, query: JournalQuery) -> JournalPage:
    async with storage.reader() as tx:
        total = await tx.count_journal(query.search, cap=COUNT_CAP)
        rows = await tx.search_journal(
            query.search,
            offset=(query.page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            newest_first=query.newest_first,
        )
    shown_total = min(total, COUNT_CAP)
    pages = max(1, -(-shown_total // PAGE_SIZE))
    return JournalPage(rows, shown_total, total > COUNT_CAP, query.page, pages)


def failed_search(search: JournalSearch) -> JournalSearch:
    """The same filter narrowed to the failures (a status filter for another status
    leaves nothing)."""
    statuses = tuple(s for s in (search.statuses or FAILED_STATUSES) if s in FAILED_STATUSES)
    return dataclasses.replace(search, statuses=statuses or ("-none-",))


async def count_failed(storage: Storage, search: JournalSearch) -> int:
    async with storage.reader() as tx:
        return await tx.count_journal(failed_search(search), cap=RESEND_CAP)


async def resend_failed(storage: Storage, search: JournalSearch, now: datetime) -> int:
    """Re-queue every failed row of the filter (up to RESEND_CAP); returns how many."""
    async with storage.reader() as tx:
        rows = await tx.search_journal(failed_search(search), limit=RESEND_CAP, newest_first=False)
    ids = [row.id for row in rows if row.id is not None]

    async def requeue(tx: Tx) -> int:
        done = 0
        for row_id in ids:
            done += await tx.resend(row_id, now) is not None
        return done

    return await storage.write(requeue) if ids else 0


async def resend_one(storage: Storage, row_id: int, now: datetime) -> JournalRow | None:
    return await storage.write(lambda tx: tx.resend(row_id, now))
