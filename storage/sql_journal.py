"""The journal: planned rows, listings, and the dispatcher's claims and outcomes (mixed into :class:`storage.sql.SqlTx`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import (
    JournalRow,
)
from storage.sql_base import _FINISH_FIELDS, _TIME_FIELDS, JOURNAL_WRITE_COLUMNS, SqlBase
from storage.tx_journal import JournalFilter


class JournalQueries(SqlBase):
    # journal --------------------------------------------------------------------------------
    def _journal_values(self, row: JournalRow) -> list[Any]:
        out: list[Any] = []
        for col in JOURNAL_WRITE_COLUMNS:
            value: Any
            if col == "options":  # the column keeps its name; the row carries a typed Plan
                value = json.dumps(row.plan.to_json(), ensure_ascii=False, default=str)
            elif col in _TIME_FIELDS:
                value = self._t(getattr(row, col))
            else:
                value = getattr(row, col)
            out.append(value)
        return out

    async def insert_journal(self, rows: Sequence[JournalRow]) -> list[int]:
        sql = (
            f"INSERT INTO journal ({', '.join(JOURNAL_WRITE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(JOURNAL_WRITE_COLUMNS))}) RETURNING id"
        )
        ids = []
        for row in rows:
            got = await self._fetchrow(sql, *self._journal_values(row))
            assert got is not None  # INSERT ... RETURNING id
            row.id = got["id"]
            ids.append(row.id)
        return ids

    async def insert_journal_bulk(self, rows: Sequence[JournalRow]) -> None:
        """Many rows whose ids nobody waits for (the intake's hot path)."""
        if rows:
            await self._executemany(
                f"INSERT INTO journal ({', '.join(JOURNAL_WRITE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(JOURNAL_WRITE_COLUMNS))})",
                [self._journal_values(row) for row in rows],
            )

    async def get_journal(self, row_id: int) -> JournalRow | None:
        row = await self._fetchrow("SELECT * FROM journal WHERE id = ?", row_id)
        return self._journal(row) if row else None

    async def list_journal(self, flt: JournalFilter) -> list[JournalRow]:
        where, args = [], []
        for key in ("status", "channel", "event_id", "address", "event_type"):
            if flt.get(key):
                where.append(f"{key} = ?")
                args.append(flt[key])
        if flt.get("since"):
            where.append("created_at >= ?")
            args.append(self._t(flt["since"]))
        if flt.get("before_id"):
            where.append("id < ?")
            args.append(flt["before_id"])
        if flt.get("order"):
            where.append(
                "(order_id = ? OR event_id IN"
                " (SELECT id FROM events WHERE order_number = ? OR order_id = ?))"
            )
            args += [flt["order"]] * 3
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(flt.get("limit", 50)))
        return [self._journal(row) for row in await self._fetch(sql, *args)]

    async def resend(self, row_id: int, now: datetime) -> JournalRow | None:
        changed = await self._execute(
            "UPDATE journal SET sent_at = NULL, failed_at = NULL, error = NULL, attempts = 0,"
            " delivered_at = NULL, receipt = NULL, receipt_poll_at = NULL,"
            " status = 'pending', reason = 'resend', due_at = ?, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ? AND status NOT IN ('sending')",
            self._t(now),
            row_id,
        )
        return await self.get_journal(row_id) if changed else None

    async def update_planned(self, row: JournalRow) -> None:
        await self._execute(
            "UPDATE journal SET channel = ?, provider = ?, address = ?, subject = ?, text = ?,"
            " html = ?, segments = ?, due_at = ?, status = ?, reason = ?, error = ?, options = ?,"
            " recipient_id = ?, recipient_name = ? WHERE id = ? AND sent_at IS NULL",
            row.channel,
            row.provider,
            row.address,
            row.subject,
            row.text,
            row.html,
            row.segments,
            self._t(row.due_at),
            row.status,
            row.reason,
            row.error,
            json.dumps(row.plan.to_json(), ensure_ascii=False, default=str),
            row.recipient_id,
            row.recipient_name,
            row.id,
        )

    async def scheduled_rows(
        self,
        *,
        order_id: str | None = None,
        event_types: Sequence[str] = (),
        source_key: str | None = None,
    ) -> list[JournalRow]:
        where = ["status IN ('scheduled', 'pending')", "sent_at IS NULL", "failed_at IS NULL"]
        args: list[Any] = []
        if order_id is not None:
            where.append("order_id = ?")
            args.append(order_id)
        if event_types:
            where.append(f"event_type IN ({','.join('?' * len(event_types))})")
            args += list(event_types)
        sql = f"SELECT * FROM journal WHERE {' AND '.join(where)} ORDER BY id"
        rows = [self._journal(row) for row in await self._fetch(sql, *args)]
        if source_key is not None:
            rows = [row for row in rows if row.plan.source_key == source_key]
        return rows

    async def cancel_rows(self, row_ids: Sequence[int], reason: str) -> int:
        if not row_ids:
            return 0
        marks = ",".join("?" * len(row_ids))
        return await self._execute(
            f"UPDATE journal SET status = 'cancelled', reason = ? WHERE id IN ({marks})"
            f" AND status IN ('scheduled', 'pending') AND sent_at IS NULL",
            reason,
            *row_ids,
        )

    async def upcoming(self, until: datetime, *, limit: int = 1000) -> list[JournalRow]:
        rows = await self._fetch(
            "SELECT * FROM journal WHERE status IN ('pending', 'scheduled') AND sent_at IS NULL"
            " AND failed_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            self._t(until),
            int(limit),
        )
        return [self._journal(row) for row in rows]

    async def purge_journal(self, before: datetime) -> int:
        return await self._execute(
            "DELETE FROM journal WHERE created_at < ? AND status NOT IN"
            " ('scheduled', 'pending', 'sending')",
            self._t(before),
        )

    async def counts(self) -> dict[str, dict[str, int]]:
        rows = await self._fetch(
            "SELECT channel, status, COUNT(*) AS n FROM journal GROUP BY channel, status"
        )
        out: dict[str, dict[str, int]] = {}
        for row in rows:
            out.setdefault(row["channel"], {})[row["status"]] = row["n"]
        return out

    # dispatcher -------------------------------------------------------------------------------
    _LOCK_CLAUSE = ""  # PostgreSQL: " FOR UPDATE SKIP LOCKED"

    async def claim_due(
        self, *, now: datetime, channel: str, limit: int, owner: str, lease_until: datetime
    ) -> list[JournalRow]:
        rows = await self._fetch(
            "UPDATE journal SET status = 'sending', lease_owner = ?, lease_until = ?"
            " WHERE id IN (SELECT id FROM journal WHERE channel = ?"
            " AND status IN ('pending', 'scheduled') AND sent_at IS NULL AND failed_at IS NULL"
            f" AND due_at <= ? ORDER BY due_at LIMIT ?{self._LOCK_CLAUSE}) RETURNING *",
            owner,
            self._t(lease_until),
            channel,
            self._t(now),
            limit,
        )
        claimed = [self._journal(row) for row in rows]
        claimed.sort(key=lambda row: (row.due_at or now, row.id or 0))
        return claimed

    async def recover_expired(self, now: datetime) -> int:
        return await self._execute(
            "UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL,"
            " reason = 'recovered: the previous sender stopped mid-send'"
            " WHERE status = 'sending' AND lease_until < ?",
            self._t(now),
        )

    async def due_by_channel(self, channels: Sequence[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for channel in channels:
            row = await self._fetchrow(
                "SELECT MIN(due_at) AS t FROM journal WHERE channel = ?"
                " AND status IN ('pending', 'scheduled') AND sent_at IS NULL"
                " AND failed_at IS NULL",
                channel,
            )
            moment = self._dt(row["t"]) if row else None
            if moment is not None:
                out[channel] = moment
        return out

    async def finish(self, row_id: int, owner: str, **fields: Any) -> bool:
        unknown = set(fields) - _FINISH_FIELDS
        if unknown:
            raise ValueError(f"unknown journal fields: {sorted(unknown)}")
        sets, args = ["lease_owner = NULL", "lease_until = NULL"], []
        for key, value in fields.items():
            sets.append(f"{key} = ?")
            args.append(self._t(value) if key in _TIME_FIELDS else value)
        changed = await self._execute(
            f"UPDATE journal SET {', '.join(sets)} WHERE id = ? AND lease_owner = ?"
            f" AND status = 'sending'",
            *args,
            row_id,
            owner,
        )
        return changed > 0

    async def release_owner(self, owner: str) -> int:
        return await self._execute(
            "UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL"
            " WHERE lease_owner = ? AND status = 'sending'",
            owner,
        )

    async def settle_sending(self, owners: Sequence[str] | None = None) -> int:
        sql = (
            "UPDATE journal SET status = 'pending', lease_owner = NULL, lease_until = NULL,"
            " reason = 'recovered: the process sending it died' WHERE status = 'sending'"
        )
        if owners is None:
            return await self._execute(sql)
        if not owners:
            return 0
        return await self._execute(
            f"{sql} AND lease_owner IN ({','.join('?' * len(owners))})", *owners
        )
