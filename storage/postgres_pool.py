"""Connections to PostgreSQL: the pool and its transactions, for the backend's other parts
(:mod:`storage.postgres` composes them) to build on.

:class:`PostgresPool` reads its tuning from the URL's query (``pool_min``, ``pool_max``,
``connect_timeout``, ``pool_wait`` in seconds; the rest of the URL goes to asyncpg as it is),
hands out transactions on pooled connections and turns every connection failure into
:class:`StorageUnavailable` (intake answers 503, the dispatcher pauses); the pool reconnects
by itself when the server is back. The advisory lock keys the parts take are kept here
together, so no two uses share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.core.timeutil import Clock, SystemClock
from storage.base import Storage, StorageUnavailable, Tx
from storage.postgres_tx import PostgresTx

T = TypeVar("T")
log = logging.getLogger("vestnik.storage")

LEADER_LOCK = 0x7E57_0001  # advisory lock keys: one database, one Vestnik
MIGRATION_LOCK = 0x7E57_0002
OWNER_LOCK_SPACE = 0x7E57_0003  # first key of the per-process (two-key) owner locks
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


class PostgresPool(Storage):
    """The pool and its transactions; the other parts of the backend subclass it."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.dsn, params = postgres_dsn(url)
        self.pool_min = int(params.get("pool_min", 1))
        self.pool_max = max(self.pool_min, int(params.get("pool_max", 10)))
        self.timeout = params.get("connect_timeout", 5.0)
        self.pool_wait = params.get("pool_wait", POOL_WAIT)
        self.waiting = 0  # callers queued for a connection right now
        self._pool: asyncpg.Pool | None = None

    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(self.dsn, timeout=self.timeout)
        except UNAVAILABLE as exc:
            raise StorageUnavailable(f"cannot connect to PostgreSQL: {describe(exc)}") from exc

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
