"""The receipts part of the storage interface: delivery receipts from the SMS portals and
modems (pushed or polled), and the failures and counts the alerts and digests report.
Implemented for both SQL backends by :mod:`storage.sql_receipts`; part of every
:class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from storage.models import JournalRow


class ReceiptsTx(abc.ABC):
    """Delivery receipts and alerts (a part of :class:`storage.base.Tx`)."""

    @abc.abstractmethod
    async def rows_by_provider_ids(
        self, provider: str, message_ids: Sequence[str]
    ) -> list[JournalRow]:
        """Rows that ``provider`` (portal or modem name) accepted under these message ids."""

    @abc.abstractmethod
    async def record_receipt(
        self, row_id: int, *, status: str, receipt: str, at: datetime, error: str | None = None
    ) -> bool:
        """A final receipt: a ``sent`` row becomes ``delivered`` (delivered_at) or
        ``undelivered`` (failed_at, error). False when the row is not ``sent`` (a replay)."""

    @abc.abstractmethod
    async def note_receipt(self, row_id: int, receipt: str) -> bool:
        """A non-final receipt ("still trying"): only ``receipt`` changes. False when the row
        is not ``sent`` or already says so (a replay)."""

    @abc.abstractmethod
    async def due_receipt_polls(self, now: datetime, limit: int) -> list[JournalRow]:
        """``sent`` rows whose ``receipt_poll_at`` has come, earliest first."""

    @abc.abstractmethod
    async def set_receipt_poll(self, row_id: int, at: datetime | None) -> None: ...

    @abc.abstractmethod
    async def failures_since(self, since: datetime, *, limit: int = 1000) -> list[JournalRow]:
        """Rows failed or undelivered at or after ``since`` (by failed_at, id), oldest first."""

    @abc.abstractmethod
    async def digest_counts(
        self, since: datetime, until: datetime
    ) -> dict[tuple[str, str], dict[str, int]]:
        """{(channel, rule): {"sent": n, "delivered": n, "failed": n}} in (since, until]."""

    @abc.abstractmethod
    async def top_errors(self, since: datetime, *, limit: int = 5) -> list[tuple[str, int]]: ...
