"""Live senders on PostgreSQL: each process that claims rows holds a session advisory lock
of its own (``OWNER_LOCK_SPACE``, a key from ``dispatch_owners``). When it dies the lock goes
with its connection, and the leader sets its ``sending`` rows pending again within seconds
instead of waiting out their leases."""

from __future__ import annotations

import logging

import asyncpg

from bot.core.timeutil import Clock
from storage.base import StorageUnavailable
from storage.postgres_pool import OWNER_LOCK_SPACE, UNAVAILABLE
from storage.postgres_signals import PostgresSignals
from storage.postgres_tx import PostgresTx

log = logging.getLogger("vestnik.storage")

# registered owners whose advisory lock (OWNER_LOCK_SPACE, lock_key) no session holds
_DEAD_OWNERS = (
    "SELECT o.owner FROM dispatch_owners o WHERE NOT EXISTS (SELECT 1 FROM pg_locks l"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid = ?::bigint::oid AND l.objid = o.lock_key::bigint::oid)"
)


class PostgresSenders(PostgresSignals):
    """Our owner lock, and the leader's look for the rows of owners that lost theirs."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__(url, clock)
        self._owner: str | None = None
        self._owner_conn: asyncpg.Connection | None = None

    async def register_sender(self, owner: str) -> int:
        self._owner = owner
        try:
            await self._ensure_owner_lock()
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {exc}") from exc
        return 0  # the dead ones' rows are the leader's to settle (recover_dead_senders)

    async def _ensure_owner_lock(self) -> None:
        """Hold our owner lock; after a lost connection take a fresh key (the old lock went
        with it, and the leader may have settled our rows meanwhile: their finish fails)."""
        if self._owner is None:
            return
        if self._owner_conn is not None and not self._owner_conn.is_closed():
            return
        self._owner_conn = None
        conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
        try:
            # the lock first, then the row: a leader never sees a registered owner unlocked
            key = await conn.fetchval("SELECT nextval('dispatch_owner_keys')::int")
            await conn.execute("SELECT pg_advisory_lock($1, $2)", OWNER_LOCK_SPACE, key)
            await conn.execute(
                "INSERT INTO dispatch_owners (owner, lock_key) VALUES ($1, $2)"
                " ON CONFLICT (owner) DO UPDATE SET lock_key = excluded.lock_key",
                self._owner,
                key,
            )
        except BaseException:
            conn.terminate()
            raise
        self._owner_conn = conn

    async def recover_dead_senders(self) -> int:
        """``sending`` rows of registered owners whose lock nobody holds: their process is
        gone. Owners not registered (an older Vestnik) are left to their leases."""
        async with self.transaction() as tx:
            assert isinstance(tx, PostgresTx)
            dead = [row["owner"] for row in await tx._fetch(_DEAD_OWNERS, OWNER_LOCK_SPACE)]
            if not dead:
                return 0
            settled = await tx.settle_sending(dead)
            await tx._execute("DELETE FROM dispatch_owners WHERE owner = ANY(?::text[])", dead)
        if settled:
            log.warning("%d row(s) of %d dead process(es) are pending again", settled, len(dead))
            self._wake_local()
        return settled
