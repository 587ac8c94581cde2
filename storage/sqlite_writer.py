"""SQLite's write side: one writer connection serialises writes, and ``write(job)`` batches
the jobs of concurrent callers into one transaction (group commit), each job inside its own
SAVEPOINT, so one fsync serves many webhook requests while a failing job still rolls back
alone.

The writer runs its statements directly on the event loop's thread (:class:`SqliteWriterTx`);
what can wait — taking the lock (``BEGIN IMMEDIATE`` may wait for another program) and
``COMMIT`` (the fsync) — runs in a worker thread. :class:`storage.sqlite.SqliteStorage`
opens the connection and sets ``clock`` and ``file``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bot.core.timeutil import Clock
from storage.base import Storage, StorageUnavailable, Tx
from storage.sqlite_file import DatabaseFile
from storage.sqlite_tx import SqliteWriterTx

T = TypeVar("T")
_MAX_GROUP = 512
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteWriter(Storage):
    """The writer connection, its lock and the group-commit queue."""

    clock: Clock  # set by SqliteStorage
    file: DatabaseFile

    def __init__(self) -> None:
        self._writer: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._queue: list[tuple[Callable[[Tx], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._queue_ready = asyncio.Event()
        self._group_task: asyncio.Task[None] | None = None
        self.write_failed_at: float | None = None  # when a group commit last failed

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        db = self._writer
        if db is None:
            raise StorageUnavailable("storage is not open")
        async with self._lock:
            try:
                await self._begin(db)
            except sqlite3.OperationalError as exc:
                raise StorageUnavailable(str(exc)) from exc
            try:
                yield SqliteWriterTx(db, self.clock)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                await self._commit(db)
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise StorageUnavailable(str(exc)) from exc

    @staticmethod
    async def _begin(db: sqlite3.Connection) -> None:
        # taking the write lock may wait busy_timeout for another program: not on the loop
        await asyncio.to_thread(db.execute, "BEGIN IMMEDIATE")

    @staticmethod
    async def _commit(db: sqlite3.Connection) -> None:
        await asyncio.to_thread(db.execute, "COMMIT")  # the fsync

    async def write(self, job: Callable[[Tx], Awaitable[T]]) -> T:
        if self._group_task is None:
            raise StorageUnavailable("storage is not open")
        lost = self.file.problem()
        if lost is not None:
            raise StorageUnavailable(lost)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        self._queue_ready.set()
        return await future

    async def _group_commit_loop(self) -> None:
        while True:
            await self._queue_ready.wait()
            self._queue_ready.clear()
            while self._queue:
                batch, self._queue = self._queue[:_MAX_GROUP], self._queue[_MAX_GROUP:]
                await self._run_group(batch)

    async def _run_group(
        self, batch: list[tuple[Callable[[Tx], Awaitable[Any]], asyncio.Future[Any]]]
    ) -> None:
        db = self._writer
        assert db is not None
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        async with self._lock:
            try:
                await self._begin(db)
                tx = SqliteWriterTx(db, self.clock)
                for job, future in batch:
                    db.execute("SAVEPOINT job")
                    try:
                        result = await job(tx)
                    except sqlite3.Error:
                        raise
                    except Exception as exc:  # the job's own failure: undo it alone
                        db.execute("ROLLBACK TO job")
                        db.execute("RELEASE job")
                        outcomes.append((future, None, exc))
                    else:
                        db.execute("RELEASE job")
                        outcomes.append((future, result, None))
                await self._commit(db)
            except sqlite3.Error as exc:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if getattr(exc, "sqlite_errorcode", None) not in _BUSY:  # (a lock is not a fault)
                    self.write_failed_at = time.monotonic()
                failure = StorageUnavailable(f"SQLite: {exc}")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                return
        lost = self.file.problem()  # committed into a file nobody can open again: not stored
        if lost is not None:
            outcomes = [(future, None, StorageUnavailable(lost)) for future, _, _ in outcomes]
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
