"""SQLite's wakeups: changes committed by other programs (``vestnik journal resend`` from a
shell, a second process's intake) wake the dispatcher through ``PRAGMA data_version`` on the
writer connection, which moves only when another connection commits: a read of shared memory
every :data:`WATCH_INTERVAL` seconds, costing nothing measurable while idle. Our own commits
wake the listeners directly (``notify_new_rows``)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from storage.sqlite_writer import SqliteWriter

WATCH_INTERVAL = 0.25  # seconds between looks at data_version: a change waits at most this
log = logging.getLogger("vestnik.storage")


class SqliteWakeups(SqliteWriter):
    """The wakeup listeners and the watch on other processes' commits."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[], None]] = []
        self._watch_task: asyncio.Task[None] | None = None  # other processes' commits

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
