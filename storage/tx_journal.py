"""The journal part of the storage interface: the planned rows (the outbox), their listings,
and the dispatcher's claims, leases and outcomes. Implemented for both SQL backends by
:mod:`storage.sql_journal`; part of every :class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import JournalRow


class JournalFilter(dict[str, Any]):
    """Keys: status, channel, since (datetime), address, order (id or number), event_id,
    text (substring), limit (default 50), before_id (paging)."""


class JournalTx(abc.ABC):
    """The journal and the dispatcher's queue (a part of :class:`storage.base.Tx`)."""

    # journal ---------------------------------------------------------------------------------
    @abc.abstractmethod
    async def insert_journal(self, rows: Sequence[JournalRow]) -> list[int]: ...

    async def insert_journal_bulk(self, rows: Sequence[JournalRow]) -> None:
        """Insert without reporting ids (backends may batch it)."""
        await self.insert_journal(rows)

    @abc.abstractmethod
    async def get_journal(self, row_id: int) -> JournalRow | None: ...

    @abc.abstractmethod
    async def list_journal(self, flt: JournalFilter) -> list[JournalRow]: ...

    @abc.abstractmethod
    async def resend(self, row_id: int, now: datetime) -> JournalRow | None:
        """Clear sent_at, failed_at, error (and attempts); the row is pending, due now."""

    @abc.abstractmethod
    async def update_planned(self, row: JournalRow) -> None:
        """Rewrite a not-yet-sent row's address, channel, text, due_at, status, reason."""

    @abc.abstractmethod
    async def scheduled_rows(
        self,
        *,
        order_id: str | None = None,
        event_types: Sequence[str] = (),
        source_key: str | None = None,
    ) -> list[JournalRow]: ...

    @abc.abstractmethod
    async def cancel_rows(self, row_ids: Sequence[int], reason: str) -> int: ...

    @abc.abstractmethod
    async def upcoming(self, until: datetime, *, limit: int = 1000) -> list[JournalRow]:
        """Rows that will be sent by ``until`` (pending/scheduled, not sent or failed), in
        due order: ``vestnik preview``."""

    @abc.abstractmethod
    async def purge_journal(self, before: datetime) -> int: ...

    @abc.abstractmethod
    async def counts(self) -> dict[str, dict[str, int]]:
        """{channel: {status: n}} for metrics and /status."""

    # dispatcher ------------------------------------------------------------------------------
    @abc.abstractmethod
    async def claim_due(
        self, *, now: datetime, channel: str, limit: int, owner: str, lease_until: datetime
    ) -> list[JournalRow]:
        """Take up to ``limit`` rows of ``channel`` that are due (pending/scheduled with
        due_at <= now, or sending with an expired lease), never one with sent_at or
        failed_at set; mark them ``sending`` under ``owner`` until ``lease_until``."""

    @abc.abstractmethod
    async def recover_expired(self, now: datetime) -> int:
        """Rows left ``sending`` by a dead process (lease expired) become pending again."""

    @abc.abstractmethod
    async def due_by_channel(self, channels: Sequence[str]) -> dict[str, datetime]:
        """{channel: earliest due_at} of the rows that may still be sent (pending/scheduled,
        no sent_at/failed_at), for each of ``channels`` that has one: the dispatcher claims
        only channels with something due. One indexed lookup per channel (a GROUP BY over
        the whole queue would scan it)."""

    @abc.abstractmethod
    async def finish(self, row_id: int, owner: str, **fields: Any) -> bool:
        """Record an outcome on a row this owner holds (status, sent_at, failed_at, error,
        attempts, provider, provider_message_id, segments, due_at, reason, lease cleared).
        False if the lease was lost."""

    @abc.abstractmethod
    async def release_owner(self, owner: str) -> int:
        """Clean shutdown: rows still ``sending`` under ``owner`` go back to pending."""

    @abc.abstractmethod
    async def settle_sending(self, owners: Sequence[str] | None = None) -> int:
        """Rows left ``sending`` by processes known to be dead (``owners``; None: every such
        row, for a database only one process sends from) become pending again."""
