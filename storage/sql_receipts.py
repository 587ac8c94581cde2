"""The receipt and alert queries of :class:`storage.base.Tx`, shared by both SQL backends
(mixed into :class:`storage.sql.SqlTx`, which supplies the driver primitives)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import JournalRow


class ReceiptQueries:
    """Delivery receipts on journal rows, the receipt poller's queue, and what staff alerts
    and the daily digest read."""

    # provided by SqlTx
    _fetch: Any
    _fetchrow: Any
    _execute: Any
    _t: Any
    _journal: Any

    async def rows_by_provider_ids(
        self, provider: str, message_ids: Sequence[str]
    ) -> list[JournalRow]:
        if not message_ids:
            return []
        marks = ",".join("?" * len(message_ids))
        rows = await self._fetch(
            f"SELECT * FROM journal WHERE provider = ? AND provider_message_id IN ({marks})",
            provider,
            *message_ids,
        )
        return [self._journal(row) for row in rows]

    async def record_receipt(
        self, row_id: int, *, status: str, receipt: str, at: datetime, error: str | None = None
    ) -> bool:
        if status == "delivered":
            return (
                await self._execute(
                    "UPDATE journal SET status = 'delivered', receipt = ?, delivered_at = ?,"
                    " receipt_poll_at = NULL WHERE id = ? AND status = 'sent'",
                    receipt,
                    self._t(at),
                    row_id,
                )
                > 0
            )
        return (
            await self._execute(
                "UPDATE journal SET status = 'undelivered', receipt = ?, failed_at = ?, error = ?,"
                " receipt_poll_at = NULL WHERE id = ? AND status = 'sent'",
                receipt,
                self._t(at),
                error or receipt,
                row_id,
            )
            > 0
        )

    async def note_receipt(self, row_id: int, receipt: str) -> bool:
        return (
            await self._execute(
                "UPDATE journal SET receipt = ? WHERE id = ? AND status = 'sent'"
                " AND (receipt IS NULL OR receipt <> ?)",
                receipt,
                row_id,
                receipt,
            )
            > 0
        )

    async def due_receipt_polls(self, now: datetime, limit: int) -> list[JournalRow]:
        rows = await self._fetch(
            "SELECT * FROM journal WHERE status = 'sent' AND receipt_poll_at IS NOT NULL"
            " AND receipt_poll_at <= ? ORDER BY receipt_poll_at LIMIT ?",
            self._t(now),
            int(limit),
        )
        return [self._journal(row) for row in rows]

    async def set_receipt_poll(self, row_id: int, at: datetime | None) -> None:
        await self._execute(
            "UPDATE journal SET receipt_poll_at = ? WHERE id = ? AND status = 'sent'",
            self._t(at),
            row_id,
        )

    async def failures_since(self, since: datetime, *, limit: int = 1000) -> list[JournalRow]:
        rows = await self._fetch(
            "SELECT * FROM journal WHERE failed_at IS NOT NULL AND failed_at >= ?"
            " AND status IN ('failed', 'undelivered') ORDER BY failed_at, id LIMIT ?",
            self._t(since),
            int(limit),
        )
        return [self._journal(row) for row in rows]

    async def digest_counts(
        self, since: datetime, until: datetime
    ) -> dict[tuple[str, str], dict[str, int]]:
        out: dict[tuple[str, str], dict[str, int]] = {}
        for name, column in (
            ("sent", "sent_at"),
            ("delivered", "delivered_at"),
            ("failed", "failed_at"),
        ):
            rows = await self._fetch(
                f"SELECT channel, rule, COUNT(*) AS n FROM journal WHERE {column} > ?"
                f" AND {column} <= ? GROUP BY channel, rule",
                self._t(since),
                self._t(until),
            )
            for row in rows:
                out.setdefault((row["channel"], row["rule"]), {})[name] = int(row["n"])
        return out

    async def top_errors(self, since: datetime, *, limit: int = 5) -> list[tuple[str, int]]:
        rows = await self._fetch(
            "SELECT error, COUNT(*) AS n FROM journal WHERE failed_at IS NOT NULL"
            " AND failed_at > ? AND error IS NOT NULL GROUP BY error ORDER BY n DESC, error"
            " LIMIT ?",
            self._t(since),
            int(limit),
        )
        return [(row["error"], int(row["n"])) for row in rows]
