"""PostgreSQL storage (asyncpg) — for several ``vestnik serve`` processes on one database.

The queries are :class:`storage.sql.SqlTx`'s, written once with ``?`` placeholders;
:mod:`storage.postgres_tx` rewrites them to ``$n`` and claims rows with ``FOR UPDATE SKIP
LOCKED``, so N processes never take the same row. What only a shared server can do lives in
the backend's parts, which :class:`PostgresStorage` composes:

- ``storage/postgres_pool.py`` — the pool and its transactions; every connection failure
  becomes :class:`StorageUnavailable` (intake answers 503, the dispatcher pauses), and the
  pool reconnects by itself when the server is back. URL query parameters ``pool_min``,
  ``pool_max``, ``connect_timeout`` and ``pool_wait`` (seconds) tune the pool; the rest of
  the URL goes to asyncpg as it is;
- ``storage/postgres_signals.py`` — ``LISTEN/NOTIFY``: a process that commits new rows
  notifies the others, whose dispatchers wake at once instead of polling;
- ``storage/postgres_leader.py`` — leadership: periodic jobs (lease recovery, retention,
  daily scans) run only in the process holding a session advisory lock; when it dies its
  connection closes, the lock is free and another process takes it within
  ``KEEP_INTERVAL`` seconds;
- ``storage/postgres_pacing.py`` — a shared send pacer (``reserve_slot``): Telegram counts
  messages per bot, not per process;
- ``storage/postgres_senders.py`` — live senders: each process that claims rows holds a
  session advisory lock of its own (``OWNER_LOCK_SPACE``, a key from ``dispatch_owners``);
  when it dies the lock goes with its connection, and the leader sets its ``sending`` rows
  pending again within seconds instead of waiting out their leases.

This module opens the storage (migrating the schema first), closes it, and runs the keeper:
one task that keeps the LISTEN, owner-lock and leadership connections alive.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from bot.core.timeutil import Clock
from storage.base import StorageUnavailable
from storage.postgres_leader import PostgresLeadership
from storage.postgres_pacing import PostgresPacing
from storage.postgres_pool import MIGRATION_LOCK, UNAVAILABLE, describe
from storage.postgres_senders import PostgresSenders
from storage.postgres_tx import PostgresTx
from storage.sql import load_migrations, pending_migrations

log = logging.getLogger("vestnik.storage")

KEEP_INTERVAL = 1.0  # seconds between checks of the listener and the leadership connection
PRUNE_INTERVAL = 600.0  # seconds between clean-ups of idle per-chat pacing rows
DEAD_CHECK_INTERVAL = 2.0  # seconds between the leader's looks for dead senders' rows


def postgres_migrations() -> list[tuple[int, str]]:
    return load_migrations("postgres")


class PostgresStorage(PostgresPacing, PostgresSenders, PostgresLeadership):
    shared_pacing = True  # senders/telegram_limits.py: one Telegram budget for every process

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__(url, clock)
        self._keeper: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._dead_checked_at = 0.0

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        conn = await self._connect()
        try:
            await self._migrate(conn)
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        finally:
            await conn.close()
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=self.pool_min, max_size=self.pool_max, timeout=self.timeout
            )
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"cannot connect to PostgreSQL: {describe(exc)}") from exc
        self._keeper = asyncio.create_task(self._keep(), name="postgres-keeper")

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        """Apply every migration newer than the database, in number order, each in its own
        transaction; processes starting together wait for each other on a lock."""
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS vestnik_schema (version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM vestnik_schema")
            for version, script in pending_migrations("postgres", current, "PostgreSQL database"):
                async with conn.transaction():
                    await conn.execute(script)
                    await conn.execute("INSERT INTO vestnik_schema (version) VALUES ($1)", version)
                log.info("PostgreSQL schema migrated to version %d", version)
        finally:
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def schema_version(self) -> int:
        async with self.reader() as tx:
            assert isinstance(tx, PostgresTx)
            row = await tx._fetchrow("SELECT COALESCE(MAX(version), 0) AS v FROM vestnik_schema")
        return int(row["v"]) if row else 0

    async def close(self) -> None:
        if self._notify_task is not None and not self._notify_task.done():
            try:
                await asyncio.wait_for(self._notify_task, self.timeout)
            except (TimeoutError, asyncio.CancelledError):
                pass
        if self._keeper is not None:
            self._keeper.cancel()
            try:
                await self._keeper
            except asyncio.CancelledError:
                pass
            self._keeper = None
        for conn in (self._listen_conn, self._leader_conn, self._owner_conn):
            if conn is not None and not conn.is_closed():
                try:
                    await asyncio.wait_for(conn.close(), 2.0)  # frees the advisory lock
                except (*UNAVAILABLE, asyncpg.PostgresError):
                    conn.terminate()
        self._listen_conn = self._leader_conn = self._owner_conn = None
        self._leader = False
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), 10.0)
            except (*UNAVAILABLE, asyncpg.PostgresError):
                self._pool.terminate()
            self._pool = None

    # the keeper ---------------------------------------------------------------------------------
    async def _keep(self) -> None:
        """Keep the LISTEN connection and the leader lock (or the bid for it) alive."""
        while True:
            try:
                await asyncio.wait_for(self._keep_now.wait(), KEEP_INTERVAL)
            except TimeoutError:
                pass
            self._keep_now.clear()
            try:
                await self._ensure_listener()
            except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
                log.debug("LISTEN connection: %s", exc)
            try:
                await self._ensure_owner_lock()
            except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
                log.debug("owner lock connection: %s", exc)
            if self._want_leader:
                try:
                    await self._ensure_leadership()
                    now = asyncio.get_running_loop().time()
                    if self._leader and now - self._pruned_at > PRUNE_INTERVAL:
                        self._pruned_at = now
                        await self.prune_slots()
                    if self._leader and now - self._dead_checked_at > DEAD_CHECK_INTERVAL:
                        self._dead_checked_at = now
                        await self.recover_dead_senders()
                except (*UNAVAILABLE, asyncpg.PostgresError, StorageUnavailable) as exc:
                    log.debug("leadership connection: %s", exc)
