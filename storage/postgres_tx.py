"""PostgreSQL's driver primitives under the shared SQL: :class:`PostgresTx` runs
:class:`storage.sql.SqlTx`'s queries on an asyncpg connection, rewriting their ``?``
placeholders to ``$n`` (:func:`pg_sql`) and claiming rows with ``FOR UPDATE SKIP LOCKED``,
so N processes never take the same row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.core.timeutil import Clock
from storage.sql import SqlTx

_placeholders: dict[str, str] = {}


def pg_sql(sql: str) -> str:
    """``?`` -> ``$1, $2, ...`` (outside string literals), cached per statement text."""
    out = _placeholders.get(sql)
    if out is None:
        pieces, n, quoted = [], 0, False
        for ch in sql:
            if ch == "'":
                quoted = not quoted
            if ch == "?" and not quoted:
                n += 1
                pieces.append(f"${n}")
            else:
                pieces.append(ch)
        out = "".join(pieces)
        if len(_placeholders) > 4096:  # IN lists of every length: keep the cache bounded
            _placeholders.clear()
        _placeholders[sql] = out
    return out


def rowcount(status: str) -> int:
    """The rows an asyncpg command status (``"UPDATE 3"``) reports."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTx(SqlTx):
    _LOCK_CLAUSE = " FOR UPDATE SKIP LOCKED"
    _CUSTOMER_OF_EVENT = "(payload::jsonb -> 'customer' ->> 'id')"  # the events_customer index

    def __init__(self, conn: asyncpg.Connection, clock: Clock) -> None:
        self._conn = conn
        self.clock = clock

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self._conn.fetch(pg_sql(sql), *args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any | None:
        return await self._conn.fetchrow(pg_sql(sql), *args)

    async def _execute(self, sql: str, *args: Any) -> int:
        return rowcount(await self._conn.execute(pg_sql(sql), *args))

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(pg_sql(sql), rows)

    def _t(self, moment: datetime | None) -> Any:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # milliseconds, as SQLite's RFC 3339 text keeps them: both backends read back alike
        return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)

    def _dt(self, value: Any) -> datetime | None:
        return value

    def _bool(self, value: bool) -> Any:
        return bool(value)
