"""Leadership among PostgreSQL processes: the periodic jobs (lease recovery, retention, daily
scans) run only in the process holding a session advisory lock (``LEADER_LOCK``). When it
dies its connection closes, the lock is free and another process takes it at the keeper's
next round (:mod:`storage.postgres`, every ``KEEP_INTERVAL`` seconds)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from bot.core.timeutil import Clock
from storage.base import StorageUnavailable
from storage.postgres_pool import LEADER_LOCK, UNAVAILABLE, PostgresPool

log = logging.getLogger("vestnik.storage")


class PostgresLeadership(PostgresPool):
    """The bid for the leader lock, held on a connection of its own."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__(url, clock)
        self._leader_conn: asyncpg.Connection | None = None
        self._want_leader = False
        self._leader = False
        self._leader_lock = asyncio.Lock()

    async def try_leadership(self) -> bool:
        """True while this process holds the leader lock. The first call takes part in the
        election; the keeper then holds (or keeps trying for) the lock every second."""
        if not self._want_leader:
            self._want_leader = True
            try:
                await self._ensure_leadership()
            except (*UNAVAILABLE, asyncpg.PostgresError, StorageUnavailable) as exc:
                log.info("leadership: %s", exc)
        return self._leader

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def _ensure_leadership(self) -> None:
        async with self._leader_lock:
            conn = self._leader_conn
            try:
                if conn is None or conn.is_closed():
                    if self._leader:
                        log.warning("leadership lost with the database connection")
                    self._leader = False
                    self._leader_conn = None
                    conn = self._leader_conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
                if self._leader:
                    await conn.fetchval("SELECT 1", timeout=self.timeout)
                    return
                if await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=self.timeout
                ):
                    self._leader = True
                    log.info("this process is now the leader: it runs the periodic jobs")
            except BaseException:
                self._leader = False
                if self._leader_conn is not None:
                    self._leader_conn.terminate()
                    self._leader_conn = None
                raise
