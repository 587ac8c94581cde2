"""The dispatcher: claims due journal rows under a lease and hands each to an attempt
(``attempts.py``, which sends it and records the outcome).

It wakes when rows are committed (``wake()``, or another process's notification) and
otherwise sleeps exactly until the next ``due_at`` (expired leases are recovered by the
periodic ``leases`` job and, at most every ``RECOVERY_EVERY``, by the loop itself). Each
channel has its own concurrency budget, so a slow channel never holds up another. Rows with ``sent_at`` or
``failed_at`` are never claimed (the DALION rule); transient failures climb the backoff
ladder, permanent ones fail at once (``outcomes.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.core.channels import CHANNELS
from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.sending import Sender
from bot.core.timeutil import Clock
from bot.pipeline.attempts import Attempts, DueStage
from storage.base import Storage, StorageUnavailable, Tx
from storage.models import JournalRow

log = logging.getLogger("vestnik.dispatcher")

IDLE_CAP = 30.0  # seconds; a safety net: other processes' commits wake us (data_version,
# NOTIFY) and dead senders' rows are the leader's to settle
RECOVERY_EVERY = timedelta(seconds=5)  # the loop's own lease recovery, at most this often
CLAIM_BATCH = 200


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """The claim loop: rows due on each channel, within its concurrency budget, each handed to
    :class:`~bot.pipeline.attempts.Attempts` on a task of its own."""

    def __init__(
        self,
        storage: Storage,
        senders: Mapping[str, Sender],
        config: Config,
        clock: Clock,
        metrics: Metrics,
        *,
        owner: str | None = None,
        due_stage: DueStage | None = None,
    ) -> None:
        self.storage = storage
        self.senders = senders
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.owner = owner or new_owner_id()
        self.lease = timedelta(seconds=config.service.lease_seconds)
        self.attempts = Attempts(
            storage,
            senders,
            config,
            clock,
            metrics,
            owner=self.owner,
            lease=self.lease,
            due_stage=due_stage,
            stopping=lambda: self._stopping,
        )
        self.inflight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._next_recovery: datetime | None = None
        # channel -> its last failure (the status page and /health read it)
        self.last_error: dict[str, str] = self.attempts.last_error

    # lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.storage.add_wakeup_listener(self.wake)
        self.clock.subscribe(self.wake)  # a clock that jumps (tests) wakes us when it moves
        self._loop_task = asyncio.create_task(self.run(), name="dispatcher")

    def wake(self) -> None:
        self._wake.set()

    async def recover_leases(self) -> int:
        """Rows whose sender died mid-send (lease expired) become pending again (a periodic
        job; the loop also does it whenever it wakes)."""
        now = self.clock.now()
        recovered = await self.storage.write(lambda tx: tx.recover_expired(now))
        if recovered:
            log.info("recovered %d rows whose lease expired", recovered)
            self.wake()
        return recovered

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight sends finish for ``grace`` s; release the rest."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            released = await self.storage.write(lambda tx: tx.release_owner(self.owner))
            if released:
                log.info("released %d unfinished rows for another run", released)
        except StorageUnavailable:
            log.warning("could not release rows at shutdown; their leases will expire")

    # the loop -------------------------------------------------------------------------------------
    def channels(self) -> list[str]:
        return list(dict.fromkeys([*self.senders, *CHANNELS]))

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.tick()
                timeout = await self.sleep_time(claimed)
            except StorageUnavailable as exc:
                log.warning("storage unavailable, dispatcher pauses: %s", exc)
                timeout = 2.0
            except Exception:  # never let one bad row stop all delivery
                log.exception("dispatcher tick failed")
                timeout = 2.0
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def tick(self) -> int:
        now = self.clock.now()
        if (
            self._next_recovery is None
            or now >= self._next_recovery
            or now < self._next_recovery - RECOVERY_EVERY
        ):  # (a clock set back)
            self._next_recovery = now + RECOVERY_EVERY
            if await self.storage.try_leadership():  # one process recovers dead ones' leases
                await self.storage.write(lambda tx: tx.recover_expired(now))
                await self.storage.recover_dead_senders()
        async with self.storage.reader() as tx:
            due = await tx.due_by_channel(self.channels())
        claimed = 0
        for channel in self.channels():
            when = due.get(channel)
            if when is None or when > now:
                continue  # nothing due on this channel: no write transaction for it
            sender = self.senders.get(channel)
            free = self._free(channel)
            if free <= 0:
                continue
            rows = await self.storage.write(self._claim(now, channel, min(free, CLAIM_BATCH)))
            claimed += len(rows)
            for row in rows:
                self.inflight[channel] = self.inflight.get(channel, 0) + 1
                task = asyncio.create_task(self.deliver(row, sender))
                self._tasks.add(task)
                task.add_done_callback(self._done)
        return claimed

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def sleep_time(self, claimed: int) -> float:
        """Until the earliest due row; leases that expire are the periodic recovery's job
        (and the loop's, at most every ``RECOVERY_EVERY``)."""
        async with self.storage.reader() as tx:
            due = await tx.due_by_channel(self.channels())
        now = self.clock.now()
        waiting = {c: t for c, t in due.items() if t <= now}
        # rows that fell due while this tick ran, on a channel with room: claim them now
        if any(self._free(channel) > 0 for channel in waiting):
            # (nothing claimed: another process holds them, or they became due just after
            # this tick's claim; look again shortly instead of spinning)
            return 0.0 if claimed else 0.02
        # the rest wait for a busy channel (a finishing send wakes us; never spin) or later
        ahead = [t for c, t in due.items() if c not in waiting]
        if not ahead:
            return 1.0 if waiting else IDLE_CAP
        return min(max(0.0, (min(ahead) - now).total_seconds()), IDLE_CAP)

    def _free(self, channel: str) -> int:
        sender = self.senders.get(channel)
        return (sender.concurrency if sender else CLAIM_BATCH) - self.inflight.get(channel, 0)

    # one row ----------------------------------------------------------------------------------
    async def deliver(self, row: JournalRow, sender: Sender | None) -> None:
        try:
            await self.attempts.run(row, sender)
        finally:
            self.inflight[row.channel] = self.inflight.get(row.channel, 1) - 1

    def _claim(
        self, now: datetime, channel: str, limit: int
    ) -> Callable[[Tx], Awaitable[list[JournalRow]]]:
        def claim(tx: Tx) -> Awaitable[list[JournalRow]]:
            return tx.claim_due(
                now=now,
                channel=channel,
                limit=limit,
                owner=self.owner,
                lease_until=now + self.lease,
            )

        return claim
