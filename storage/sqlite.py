"""SQLite storage (WAL, durable commits) — the embedded default.

One writer connection serialises writes. ``write(job)`` batches the jobs of concurrent callers
into one transaction (group commit), each job inside its own SAVEPOINT, so one fsync serves
many webhook requests while a failing job still rolls back alone.

The writer runs its statements directly on the event loop's thread: inside a transaction
that already holds the write lock they take microseconds, far less than a hop to a worker
thread and back, which under load costs a whole loop turn per statement. Everything that can
wait — taking the lock (``BEGIN IMMEDIATE`` may wait for another program) and ``COMMIT``
(the fsync) — runs in a worker thread. Reads use an aiosqlite connection beside the writer,
as WAL allows, so a long listing never blocks the loop.

Only one ``vestnik serve`` sends from a database file: :meth:`SqliteStorage.register_sender`
takes an exclusive lock on ``<file>-serve.lock`` (holding the PID), so at start every row
still ``sending`` belongs to a dead run and is settled at once. Changes committed by other
programs (``vestnik journal resend`` from a shell, a second process's intake) wake the
dispatcher through ``PRAGMA data_version`` on the writer connection, which moves only when
another connection commits: a read of shared memory every :data:`WATCH_INTERVAL` seconds,
costing nothing measurable while idle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import aiosqlite

from bot.core.timeutil import Clock, SystemClock, parse_rfc3339, rfc3339
from storage.base import Storage, StorageUnavailable, Tx
from storage.serve_lock import take_serve_lock
from storage.sql import SqlTx, load_migrations, pending_migrations
from storage.sqlite_file import DatabaseFile

T = TypeVar("T")
_MAX_GROUP = 512
WATCH_INTERVAL = 0.25  # seconds between looks at data_version: a change waits at most this
FILE_CHECK_SECONDS = 2.0  # how often the open file is compared with the one at the path
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
WRITE_FAILURE_WINDOW = 10.0  # seconds /healthz reports the database down after a failed write
log = logging.getLogger("vestnik.storage")


def sqlite_migrations() -> list[tuple[int, str]]:
    return load_migrations("sqlite")


def sqlite_path(url: str) -> tuple[str, dict[str, str]]:
    """``sqlite:///vestnik.db`` is relative to the working directory,
    ``sqlite:////var/lib/vestnik.db`` absolute."""
    parts = urlsplit(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return path or "vestnik.db", query


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


class SqliteStorage(Storage):
    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.path, query = sqlite_path(url)
        self.busy_timeout_ms = int(query.get("busy_timeout", 5000))
        self._writer: sqlite3.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._queue: list[tuple[Callable[[Tx], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._queue_ready = asyncio.Event()
        self._group_task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._watch_task: asyncio.Task[None] | None = None  # other processes' commits
        self._serve_lock: int | None = None
        self.file = DatabaseFile(self.path)
        self._file_task: asyncio.Task[None] | None = None  # the file still at its path
        self.write_failed_at: float | None = None  # when a group commit last failed

    # lifecycle -------------------------------------------------------------------------------
    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000
        )
        db.row_factory = aiosqlite.Row
        await db.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")  # committed means durable
        return db

    def _connect_writer(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=self.busy_timeout_ms / 1000,
        )
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")  # committed means durable
        self._migrate(db)
        return db

    async def open(self) -> None:
        try:
            created = self.file.before_open()
            self._writer = await asyncio.to_thread(self._connect_writer)
            self._reader = await self._connect()
            self.file.opened(created)
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._group_task = asyncio.create_task(self._group_commit_loop(), name="sqlite-writer")
        self._file_task = asyncio.create_task(self._watch_file(), name="sqlite-file-watch")

    async def _watch_file(self) -> None:
        while self.file.problem() is None:
            await asyncio.sleep(FILE_CHECK_SECONDS)

    def _migrate(self, db: sqlite3.Connection) -> None:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        for version, script in pending_migrations("sqlite", current, f"database {self.path}"):
            db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        assert self._writer is not None
        return int(self._writer.execute("PRAGMA user_version").fetchone()[0])

    async def close(self) -> None:
        for task in (self._watch_task, self._file_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._watch_task = self._file_task = None
        if self._group_task is not None:
            self._group_task.cancel()
            try:
                await self._group_task
            except asyncio.CancelledError:
                pass
            self._group_task = None
        for fut in (f for _, f in self._queue if not f.done()):
            fut.set_exception(StorageUnavailable("storage closed"))
        self._queue.clear()
        if self._reader is not None:
            await self._reader.close()
        if self._writer is not None:
            self._writer.close()
        self._writer = self._reader = None
        if self._serve_lock is not None:
            os.close(self._serve_lock)  # releases the lock for the next run
            self._serve_lock = None

    async def ping(self) -> bool:
        """True when a write transaction can be started (a lock held elsewhere says no)."""
        if self._writer is None or self.file.problem() is not None:
            return False
        if (
            self.write_failed_at is not None
            and time.monotonic() - self.write_failed_at < WRITE_FAILURE_WINDOW
        ):
            return False  # (a full disk lets small writes through: one failure counts a while)
        try:
            async with self._lock:
                await self._begin(self._writer)
                self._writer.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False

    # transactions ----------------------------------------------------------------------------
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

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Tx]:
        if self._reader is None:
            raise StorageUnavailable("storage is not open")
        yield SqliteTx(self._reader, self.clock)

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

    # signals --------------------------------------------------------------------------------
    def add_wakeup_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)
        if self._watch_task is None and self._group_task is not None:
            self._watch_task = asyncio.create_task(self._watch_others(), name="sqlite-watch")

    async def notify_new_rows(self) -> None:
        self._wake_listeners()

    def _wake_listeners(self) -> None:
        for callback in self._listeners:
            callback()

    def _data_version(self) -> int | None:
        """The writer's data_version (moves when another connection commits), or None while
        the writer is busy: our own statements never need waking for."""
        db = self._writer
        if db is None or self._lock.locked():
            return None
        return int(db.execute("PRAGMA data_version").fetchall()[0][0])  # stepped to the end

    async def _watch_others(self) -> None:
        """Wake the listeners when another process committed (see the module docstring)."""
        seen: int | None = None
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                version = self._data_version()
            except sqlite3.Error as exc:  # the next look will tell; a lost wakeup only waits
                log.debug("data_version: %s", exc)
                continue
            if version is None:
                continue
            if seen is not None and version != seen:
                self._wake_listeners()
            seen = version

    # one sender per database file ------------------------------------------------------------
    async def register_sender(self, owner: str) -> int:
        if self.path != ":memory:":
            self._serve_lock = take_serve_lock(self.path)
        settled = await self.write(lambda tx: tx.settle_sending())
        if settled:
            log.warning(
                "%d row(s) left sending by a previous run that died are pending again", settled
            )
        return settled
