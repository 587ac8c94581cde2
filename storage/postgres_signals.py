"""PostgreSQL's cross-process wakeups (``LISTEN/NOTIFY``): a process that commits new rows
notifies the others, whose dispatchers wake at once instead of polling. The LISTEN
connection is kept (and restored after a loss) by the keeper in :mod:`storage.postgres`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from bot.core.timeutil import Clock
from storage.postgres_pool import UNAVAILABLE, PostgresPool

log = logging.getLogger("vestnik.storage")

WAKEUP_CHANNEL = "vestnik_wakeup"


class PostgresSignals(PostgresPool):
    """New rows' notifications, sent coalesced and heard on a connection of their own."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__(url, clock)
        self.instance = uuid.uuid4().hex  # our own notifications are not news to us
        self._listeners: list[Callable[[], None]] = []
        self._listen_conn: asyncpg.Connection | None = None
        self._keep_now = asyncio.Event()  # asks the keeper for a round now
        self._notify_wanted = False
        self._notify_task: asyncio.Task[None] | None = None

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
