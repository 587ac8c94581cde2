"""The web pages' part of the storage interface: the journal search with its capped count,
the queue due soon, the stop list search, customers by name and the one-time login links.
Implemented for both SQL backends by :mod:`storage.sql_web`; part of every
:class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

from storage.models import JournalRow, StopEntry


@dataclass(slots=True)
class JournalSearch:
    """The web journal's query: every field given narrows it. The search alternatives
    (``addresses``, ``order``, ``event_id``, ``recipient_ids``, ``row_id``) are OR-ed: one
    search box value may be a phone, an order number or an event id at once."""

    statuses: tuple[str, ...] = ()
    channel: str | None = None
    event_type: str | None = None
    rule: str | None = None
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at < until
    addresses: tuple[str, ...] = ()
    order: str | None = None  # order id or number
    event_id: str | None = None
    recipient_ids: tuple[str, ...] = ()
    row_id: int | None = None
    searching: bool = False  # a search was asked: no alternative found means no rows

    @property
    def alternatives(self) -> bool:
        return bool(
            self.addresses
            or self.order
            or self.event_id
            or self.recipient_ids
            or self.row_id is not None
        )


class WebTx(abc.ABC):
    """The managers' web pages (a part of :class:`storage.base.Tx`)."""

    @abc.abstractmethod
    async def search_journal(
        self, search: JournalSearch, *, offset: int = 0, limit: int = 50, newest_first: bool = True
    ) -> list[JournalRow]:
        """One page of the rows matching ``search``, by id (insertion time)."""

    @abc.abstractmethod
    async def count_journal(self, search: JournalSearch, *, cap: int) -> int:
        """How many rows match, counted up to ``cap`` (``cap`` + 1 means "more")."""

    @abc.abstractmethod
    async def due_counts(self, until: datetime) -> dict[str, int]:
        """{channel: rows that may still be sent and are due by ``until``}."""

    @abc.abstractmethod
    async def search_stops(
        self, text: str, *, limit: int = 100, offset: int = 0
    ) -> list[StopEntry]:
        """Stop list entries whose who, type, channel, reason or author contain ``text``."""

    @abc.abstractmethod
    async def get_stop(self, entry_id: int) -> StopEntry | None: ...

    @abc.abstractmethod
    async def customer_ids_named(self, text: str, *, limit: int = 200) -> list[str]:
        """Ids of customers whose name contains ``text`` (case-insensitive)."""

    @abc.abstractmethod
    async def use_login_token(self, token_id: str, now: datetime, expires_at: datetime) -> bool:
        """Record a one-time login link as used; False when it was used before. Links
        past their expiry are forgotten (they are refused by their signature's time)."""
