"""SQLite's driver primitives under the shared SQL: :class:`SqliteTx` runs
:class:`storage.sql.SqlTx`'s queries on an aiosqlite connection (the reader), and
:class:`SqliteWriterTx` on the writer's plain sqlite3 connection, synchronously: inside a
transaction that holds the write lock a statement takes microseconds (see
:mod:`storage.sqlite_writer`). Times are stored as RFC 3339 text."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.timeutil import Clock, parse_rfc3339, rfc3339
from storage.sql import SqlTx


class SqliteTx(SqlTx):
    def __init__(self, db: aiosqlite.Connection, clock: Clock) -> None:
        self._db = db
        self.clock = clock

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any | None:
        rows = list(await self._db.execute_fetchall(sql, args))
        return rows[0] if rows else None

    async def _execute(self, sql: str, *args: Any) -> int:
        cursor = await self._db.execute(sql, args)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)

    def _t(self, moment: datetime | None) -> Any:
        return rfc3339(moment)

    def _dt(self, value: Any) -> datetime | None:
        return parse_rfc3339(value)


class SqliteWriterTx(SqliteTx):
    """Statements of a write transaction that holds the lock: synchronous, microseconds each."""

    def __init__(self, db: sqlite3.Connection, clock: Clock) -> None:  # noqa: D107
        self._conn = db
        self.clock = clock

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return self._conn.execute(sql, args).fetchall()

    async def _fetchrow(self, sql: str, *args: Any) -> Any | None:
        return self._conn.execute(sql, args).fetchone()

    async def _execute(self, sql: str, *args: Any) -> int:
        return self._conn.execute(sql, args).rowcount

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)
