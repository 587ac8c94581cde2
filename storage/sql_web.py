"""The queries of the managers' web pages, shared by both SQL backends (a part of
:class:`storage.sql.SqlTx`): the journal search with its capped count, the queue due soon,
the stop list search, customers by name and the one-time login links.

The journal search pages by id (insertion order, so time order) and keeps every branch on an
index: the search box's alternatives (address, order, event id, customer) are a UNION of
indexed look-ups, never an OR the planners would answer with a scan of the whole table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import JournalRow, StopEntry
from storage.sql_base import SqlBase
from storage.tx_web import JournalSearch

_QUEUE = "status IN ('pending', 'scheduled') AND sent_at IS NULL AND failed_at IS NULL"


def _name_variants(text: str) -> list[str]:
    """Spellings to try: SQLite compares non-ASCII letters case-sensitively, so "иван" must
    also be tried as "Иван" and "ИВАН"."""
    return list(dict.fromkeys([text, text.lower(), text.capitalize(), text.title(), text.upper()]))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class WebQueries(SqlBase):
    """Mixed into :class:`storage.sql.SqlTx`, whose primitives it uses."""

    def _search_where(self, search: JournalSearch) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if search.statuses:
            where.append(f"status IN ({','.join('?' * len(search.statuses))})")
            args += list(search.statuses)
        for column, value in (
            ("channel", search.channel),
            ("event_type", search.event_type),
            ("rule", search.rule),
        ):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if search.since is not None:
            where.append("created_at >= ?")
            args.append(self._t(search.since))
        if search.until is not None:
            where.append("created_at < ?")
            args.append(self._t(search.until))
        if search.alternatives:
            branches, branch_args = self._alternatives(search)
            where.append(f"id IN ({' UNION '.join(branches)})")
            args += branch_args
        elif search.searching:
            where.append("1 = 0")
        return where, args

    @staticmethod
    def _alternatives(search: JournalSearch) -> tuple[list[str], list[Any]]:
        branches: list[str] = []
        args: list[Any] = []
        if search.addresses:
            branches.append(
                f"SELECT id FROM journal WHERE address IN ({','.join('?' * len(search.addresses))})"
            )
            args += list(search.addresses)
        if search.recipient_ids:
            branches.append(
                "SELECT id FROM journal WHERE recipient_id IN "
                f"({','.join('?' * len(search.recipient_ids))})"
            )
            args += list(search.recipient_ids)
        if search.order:
            branches.append("SELECT id FROM journal WHERE order_id = ?")
            branches.append(
                "SELECT j.id FROM journal j JOIN events e ON j.event_id = e.id"
                " WHERE e.order_number = ? OR e.order_id = ?"
            )
            args += [search.order] * 3
        if search.event_id:
            branches.append("SELECT id FROM journal WHERE event_id = ?")
            args.append(search.event_id)
        if search.row_id is not None:
            branches.append("SELECT id FROM journal WHERE id = ?")
            args.append(search.row_id)
        return branches, args

    async def search_journal(
        self, search: JournalSearch, *, offset: int = 0, limit: int = 50, newest_first: bool = True
    ) -> list[JournalRow]:
        where, args = self._search_where(search)
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?"
        rows = await self._fetch(sql, *args, int(limit), int(offset))
        return [self._journal(row) for row in rows]

    async def count_journal(self, search: JournalSearch, *, cap: int) -> int:
        where, args = self._search_where(search)
        inner = "SELECT 1 FROM journal"
        if where:
            inner += " WHERE " + " AND ".join(where)
        row = await self._fetchrow(
            f"SELECT COUNT(*) AS n FROM ({inner} LIMIT ?) AS capped", *args, int(cap) + 1
        )
        return int(row["n"]) if row else 0

    async def due_counts(self, until: datetime) -> dict[str, int]:
        rows = await self._fetch(
            f"SELECT channel, COUNT(*) AS n FROM journal WHERE {_QUEUE} AND due_at <= ?"
            " GROUP BY channel",
            self._t(until),
        )
        return {row["channel"]: int(row["n"]) for row in rows}

    async def search_stops(
        self, text: str, *, limit: int = 100, offset: int = 0
    ) -> list[StopEntry]:
        text = text.strip()
        if not text:
            rows = await self._fetch(
                "SELECT * FROM stoplist ORDER BY id DESC LIMIT ? OFFSET ?", int(limit), int(offset)
            )
            return [self._stop(row) for row in rows]
        variants = _name_variants(text)
        likes = " OR ".join(
            f"{column} LIKE ? ESCAPE '\\'"
            for _ in variants
            for column in ("who", "event_type", "channel", "reason", "author")
        )
        args = [_like(v) for v in variants for _ in range(5)]
        rows = await self._fetch(
            f"SELECT * FROM stoplist WHERE {likes} ORDER BY id DESC LIMIT ? OFFSET ?",
            *args,
            int(limit),
            int(offset),
        )
        return [self._stop(row) for row in rows]

    async def get_stop(self, entry_id: int) -> StopEntry | None:
        row = await self._fetchrow("SELECT * FROM stoplist WHERE id = ?", entry_id)
        return self._stop(row) if row else None

    async def customer_ids_named(self, text: str, *, limit: int = 200) -> list[str]:
        variants = _name_variants(text.strip())
        likes = " OR ".join("name LIKE ? ESCAPE '\\'" for _ in variants)
        rows = await self._fetch(
            f"SELECT id FROM persons WHERE kind = 'customer' AND ({likes}) ORDER BY id LIMIT ?",
            *[_like(v) for v in variants],
            int(limit),
        )
        return [row["id"] for row in rows]

    async def use_login_token(self, token_id: str, now: datetime, expires_at: datetime) -> bool:
        await self._execute("DELETE FROM web_login_used WHERE expires_at < ?", self._t(now))
        row = await self._fetchrow(
            "INSERT INTO web_login_used (token_id, used_at, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (token_id) DO NOTHING RETURNING token_id",
            token_id,
            self._t(now),
            self._t(expires_at),
        )
        return row is not None
