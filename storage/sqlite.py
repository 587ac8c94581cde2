"""SQLite storage (WAL, durable commits) — the embedded default.

One writer connection serialises writes, and ``write(job)`` batches the jobs of concurrent
callers into one transaction (group commit), each job inside its own SAVEPOINT, so one fsync
serves many webhook requests while a failing job still rolls back alone
(``storage/sqlite_writer.py``). The writer runs its statements directly on the event loop's
thread: inside a transaction that already holds the write lock they take microseconds, far
less than a hop to a worker thread and back, which under load costs a whole loop turn per
statement. Everything that can wait — taking the lock (``BEGIN IMMEDIATE`` may wait for
another program) and ``COMMIT`` (the fsync) — runs in a worker thread. Reads use an
aiosqlite connection beside the writer, as WAL allows, so a long listing never blocks the
loop (``storage/sqlite_tx.py`` has both connections' primitives).

Only one ``vestnik serve`` sends from a database file: :meth:`SqliteStorage.register_sender`
takes an exclusive lock on ``<file>-serve.lock`` (holding the PID; ``storage/serve_lock.py``),
so at start every row still ``sending`` belongs to a dead run and is settled at once. Changes
committed by other programs (``vestnik journal resend`` from a shell, a second process's
intake) wake the dispatcher through ``PRAGMA data_version`` (``storage/sqlite_wakeups.py``).
The file itself is watched too: one deleted or replaced under us stops the writes
(``storage/sqlite_file.py``).

This module opens the connections (migrating the schema first), closes them, and answers
``ping`` and ``reader``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import aiosqlite

from bot.core.timeutil import Clock, SystemClock
from storage.base import StorageUnavailable, Tx
from storage.serve_lock import take_serve_lock
from storage.sql import load_migrations, pending_migrations
from storage.sqlite_file import DatabaseFile
from storage.sqlite_tx import SqliteTx
from storage.sqlite_wakeups import SqliteWakeups

FILE_CHECK_SECONDS = 2.0  # how often the open file is compared with the one at the path
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


class SqliteStorage(SqliteWakeups):
    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__()
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.path, query = sqlite_path(url)
        self.busy_timeout_ms = int(query.get("busy_timeout", 5000))
        self._reader: aiosqlite.Connection | None = None
        self._serve_lock: int | None = None
        self.file = DatabaseFile(self.path)
        self._file_task: asyncio.Task[None] | None = None  # the file still at its path

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

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Tx]:
        if self._reader is None:
            raise StorageUnavailable("storage is not open")
        yield SqliteTx(self._reader, self.clock)

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
