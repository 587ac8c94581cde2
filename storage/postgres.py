"""PostgreSQL storage (asyncpg) — for several ``vestnik serve`` processes on one database.

The queries are :class:`storage.sql.SqlTx`'s, written once with ``?`` placeholders; this
module rewrites them to ``$n`` and claims rows with ``FOR UPDATE SKIP LOCKED``, so N
processes never take the same row. What only a shared server can do lives here too:

- ``LISTEN/NOTIFY``: a process that commits new rows notifies the others, whose dispatchers
  wake at once instead of polling;
- leadership: periodic jobs (lease recovery, retention, daily scans) run only in the process
  holding a session advisory lock; when it dies its connection closes, the lock is free and
  another process takes it within ``KEEP_INTERVAL`` seconds;
- a shared send pacer (``reserve_slot``): Telegram counts messages per bot, not per process;
- live senders: each process that claims rows holds a session advisory lock of its own
  (``OWNER_LOCK_SPACE``, a key from ``dispatch_owners``); when it dies the lock goes with its
  connection, and the leader sets its ``sending`` rows pending again within seconds instead
  of waiting out their leases.

Every connection failure becomes :class:`StorageUnavailable` (intake answers 503, the
dispatcher pauses); the pool reconnects by itself when the server is back. URL query
parameters ``pool_min``, ``pool_max``, ``connect_timeout`` and ``pool_wait`` (seconds) tune
the pool; the rest of the URL goes to asyncpg as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.core.timeutil import Clock, SystemClock
from storage.base import Storage, StorageUnavailable, Tx
from storage.sql import SqlTx, load_migrations, pending_migrations

T = TypeVar("T")
log = logging.getLogger("vestnik.storage")

WAKEUP_CHANNEL = "vestnik_wakeup"
LEADER_LOCK = 0x7E57_0001  # advisory lock keys: one database, one Vestnik
MIGRATION_LOCK = 0x7E57_0002
OWNER_LOCK_SPACE = 0x7E57_0003  # first key of the per-process (two-key) owner locks
KEEP_INTERVAL = 1.0  # seconds between checks of the listener and the leadership connection
PRUNE_INTERVAL = 600.0  # seconds between clean-ups of idle per-chat pacing rows
DEAD_CHECK_INTERVAL = 2.0  # seconds between the leader's looks for dead senders' rows
_OUR_PARAMS = ("pool_min", "pool_max", "connect_timeout", "pool_wait")
POOL_WAIT = 30.0  # seconds a burst waits for a free connection before it is told 503

# a connection or the server is gone (or going): the caller may retry later
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InternalClientError,  # a connection left mid-protocol by a dying server
)
# two transactions met: running the job again from the start settles it (the second intake
# of one event id finds it stored and reports a duplicate)
RETRYABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.UniqueViolationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)
WRITE_ATTEMPTS = 3


def describe(exc: BaseException) -> str:
    """An error's words, never empty (a bare TimeoutError has none)."""
    text = str(exc).strip()
    if isinstance(exc, TimeoutError):
        return f"timed out{': ' + text if text else ''}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def postgres_migrations() -> list[tuple[int, str]]:
    return load_migrations("postgres")


def postgres_dsn(url: str) -> tuple[str, dict[str, float]]:
    """Split Vestnik's own query parameters off the URL; the rest is asyncpg's."""
    parts = urlsplit(url)
    ours: dict[str, float] = {}
    theirs = []
    for key, value in parse_qsl(parts.query):
        if key in _OUR_PARAMS:
            ours[key] = float(value)
        else:
            theirs.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(theirs))), ours


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


# registered owners whose advisory lock (OWNER_LOCK_SPACE, lock_key) no session holds
_DEAD_OWNERS = (
    "SELECT o.owner FROM dispatch_owners o WHERE NOT EXISTS (SELECT 1 FROM pg_locks l"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid = ?::bigint::oid AND l.objid = o.lock_key::bigint::oid)"
)


def _rowcount(status: str) -> int:
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
        return _rowcount(await self._conn.execute(pg_sql(sql), *args))

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


class PostgresStorage(Storage):
    shared_pacing = True  # senders/telegram_limits.py: one Telegram budget for every process

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.dsn, params = postgres_dsn(url)
        self.pool_min = int(params.get("pool_min", 1))
        self.pool_max = max(self.pool_min, int(params.get("pool_max", 10)))
        self.timeout = params.get("connect_timeout", 5.0)
        self.pool_wait = params.get("pool_wait", POOL_WAIT)
        self.waiting = 0  # callers queued for a connection right now
        self.instance = uuid.uuid4().hex  # our own notifications are not news to us
        self._pool: asyncpg.Pool | None = None
        self._listeners: list[Callable[[], None]] = []
        self._listen_conn: asyncpg.Connection | None = None
        self._leader_conn: asyncpg.Connection | None = None
        self._owner: str | None = None
        self._owner_conn: asyncpg.Connection | None = None
        self._want_leader = False
        self._leader = False
        self._leader_lock = asyncio.Lock()
        self._keeper: asyncio.Task[None] | None = None
        self._keep_now = asyncio.Event()
        self._notify_wanted = False
        self._notify_task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._dead_checked_at = 0.0

    # lifecycle -------------------------------------------------------------------------------
    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(self.dsn, timeout=self.timeout)
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"cannot connect to PostgreSQL: {describe(exc)}") from exc

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

    async def ping(self) -> bool:
        if self._pool is None:
            return False
        try:
            await self._pool.fetchval("SELECT 1", timeout=self.timeout)
            return True
        except (*UNAVAILABLE, asyncpg.PostgresError):
            return False

    # transactions ----------------------------------------------------------------------------
    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise StorageUnavailable("storage is not open")
        self.waiting += 1
        try:  # the pool queues waiters in order: a burst waits for its turn
            conn = await self._pool.acquire(timeout=self.pool_wait)
        except TimeoutError as exc:
            raise StorageUnavailable(
                f"PostgreSQL: no free connection within {self.pool_wait:g} s (pool_max="
                f"{self.pool_max}, {self.waiting} waiting): raise pool_max or pool_wait in the "
                "database URL, or the server's max_connections"
            ) from exc
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        finally:
            self.waiting -= 1
        try:
            yield conn
        except UNAVAILABLE + (StorageUnavailable,):
            with contextlib.suppress(asyncpg.InterfaceError):  # maybe released already
                conn.terminate()  # never hand a broken connection to the next caller
            raise
        finally:
            try:
                await self._pool.release(conn)
            except UNAVAILABLE:
                pass

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._connection() as conn:
            tr = conn.transaction()
            try:
                await tr.start()
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
            try:
                yield PostgresTx(conn, self.clock)
            except BaseException as exc:
                try:
                    await tr.rollback()
                except (*UNAVAILABLE, asyncpg.PostgresError):
                    pass  # a lost connection rolls back by itself
                if isinstance(exc, UNAVAILABLE):
                    raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
                raise
            try:
                await tr.commit()
            except UNAVAILABLE as exc:
                # maybe committed, maybe not: the caller answers 503 and the ERP's retry is
                # either stored or reported as a duplicate
                raise StorageUnavailable(f"PostgreSQL commit: {describe(exc)}") from exc

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Tx]:
        async with self._connection() as conn:
            try:
                yield PostgresTx(conn, self.clock)
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc

    async def write(self, job: Callable[[Tx], Awaitable[T]]) -> T:
        """One transaction per job (the pool's connections commit in parallel and the server
        groups their WAL flushes); a job that collided with another process runs again."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self.transaction() as tx:
                    return await job(tx)
            except RETRYABLE as exc:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                log.debug("write collided (%s); running it again", exc)
                await asyncio.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    # signals: LISTEN/NOTIFY ------------------------------------------------------------------
    def add_wakeup_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)
        self._keep_now.set()  # listen now, not at the keeper's next round

    async def notify_new_rows(self) -> None:
        """Coalesced: however many commits ask at once, one NOTIFY is in flight at a time,
        and one more follows if anyone asked meanwhile."""
        self._notify_wanted = True
        if self._notify_task is None or self._notify_task.done():
            self._notify_task = asyncio.create_task(self._notify_loop(), name="postgres-notify")

    async def _notify_loop(self) -> None:
        while self._notify_wanted and self._pool is not None:
            self._notify_wanted = False
            try:
                await self._pool.execute(
                    "SELECT pg_notify($1, $2)", WAKEUP_CHANNEL, self.instance, timeout=self.timeout
                )
            except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
                # the others find the rows at their next wakeup; nothing is lost
                log.info("NOTIFY failed: %s", exc)
                return

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        if payload != self.instance:
            self._wake_local()

    def _wake_local(self) -> None:
        for callback in self._listeners:
            callback()

    async def _ensure_listener(self) -> None:
        if not self._listeners:
            return
        if self._listen_conn is not None and not self._listen_conn.is_closed():
            return
        reconnecting = self._listen_conn is not None
        self._listen_conn = None
        conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
        await conn.add_listener(WAKEUP_CHANNEL, self._on_notify)
        self._listen_conn = conn
        if reconnecting:  # notifications sent while we were away are lost: look now
            log.info("LISTEN connection restored")
            self._wake_local()

    # leadership: a session advisory lock ------------------------------------------------------
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

    # live senders: a session advisory lock per process ----------------------------------------
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

    # shared send pacing (senders/telegram_limits.py) -------------------------------------------
    async def reserve_slot(
        self, bucket: str, spacing: float, key: str | None, key_gap: float
    ) -> tuple[float, float]:
        """Reserve the next slot of ``bucket``: returns (slot, seconds to wait), the slot in
        the server's epoch seconds."""
        async with self._connection() as conn:
            try:
                row = await conn.fetchrow(
                    "SELECT s AS slot, s - extract(epoch FROM clock_timestamp())::float8 AS wait"
                    " FROM vestnik_reserve_slot($1, $2, $3, $4) AS s",
                    bucket,
                    spacing,
                    key,
                    key_gap,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        return float(row["slot"]), float(row["wait"])

    async def pause_bucket(self, bucket: str, seconds: float) -> None:
        async with self._connection() as conn:
            try:
                await conn.execute(
                    "INSERT INTO rate_slots (bucket, paused_until)"
                    " VALUES ($1, extract(epoch FROM clock_timestamp())::float8 + $2)"
                    " ON CONFLICT (bucket) DO UPDATE SET paused_until ="
                    " GREATEST(rate_slots.paused_until, excluded.paused_until)",
                    bucket,
                    seconds,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc

    async def bucket_paused_for(self, bucket: str) -> float:
        async with self._connection() as conn:
            try:
                left = await conn.fetchval(
                    "SELECT paused_until - extract(epoch FROM clock_timestamp())::float8"
                    " FROM rate_slots WHERE bucket = $1",
                    bucket,
                )
            except UNAVAILABLE as exc:
                raise StorageUnavailable(f"PostgreSQL: {describe(exc)}") from exc
        return max(0.0, float(left or 0.0))

    async def prune_slots(self, older_than: float = 3600.0) -> int:
        """Chat rows nobody used for an hour (the leader calls this now and then)."""
        async with self._connection() as conn:
            status = await conn.execute(
                "DELETE FROM rate_slots WHERE bucket LIKE 'chat:%'"
                " AND next_slot < extract(epoch FROM clock_timestamp())::float8 - $1",
                older_than,
            )
        return _rowcount(status)
