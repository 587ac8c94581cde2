"""Pacing for the telegram channel: Telegram's flood limits as data, and an in-process limiter.

Telegram allows "about 30 messages per second" per bot, at most one message per second in one
chat and 20 messages per minute in one group; a 429 answer says how long the *whole bot* must
wait. :class:`LocalRateLimiter` keeps those limits for one process by handing out send slots:

- global: strict spacing at ``rate_per_second`` (times :data:`GLOBAL_HEADROOM`, so network
  jitter does not push two sends into the same second on Telegram's side);
- per chat: one slot per :data:`CHAT_INTERVAL` seconds in a private chat, per
  :data:`GROUP_INTERVAL` in a group (negative chat id); messages to one chat go in order;
- ``pause(seconds)`` after a 429 holds every sender until the deadline.

The interface is two methods (:class:`RateLimiter`). When several processes share one
PostgreSQL database, :class:`SharedRateLimiter` keeps the same limits for all of them together
(Telegram counts per bot, not per process): each send reserves its slot in the database, and a
429 pauses every process. :func:`rate_limiter_for` picks the one that fits the storage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger("vestnik.telegram")

GLOBAL_HEADROOM = 0.97
CHAT_INTERVAL = 1.0  # seconds between two messages to one private chat
GROUP_INTERVAL = 60.0 / 20  # 20 messages per minute to one group
_PRUNE_AT = 10_000  # chat entries kept before old ones are dropped


class RateLimiter(Protocol):
    async def acquire(self, chat_id: int) -> None:
        """Return when a message to ``chat_id`` may be sent now."""
        ...

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nobody sends for ``seconds``."""
        ...


def chat_interval(chat_id: int) -> float:
    return GROUP_INTERVAL if chat_id < 0 else CHAT_INTERVAL


class LocalRateLimiter:
    """Slot scheduling for one process; ``clock``/``sleep`` are injectable for tests."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        headroom: float = GLOBAL_HEADROOM,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate = rate_per_second
        self.spacing = 1.0 / (rate_per_second * headroom)
        self.clock = clock
        self.sleep = sleep
        self._next_global = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._chat_locks: dict[int, list[Any]] = {}  # chat -> [lock, tasks using it]
        self.pauses = 0

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def pause(self, seconds: float) -> None:
        until = self.clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    async def acquire(self, chat_id: int) -> None:
        entry = self._chat_locks.get(chat_id)
        if entry is None:
            entry = self._chat_locks[chat_id] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:  # one chat's messages leave in order, spaced
                await self._wait_until(self._chat_next.get(chat_id, 0.0))
                await self._global_slot()
                self._chat_next[chat_id] = self.clock() + chat_interval(chat_id)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._chat_locks[chat_id]
        if len(self._chat_next) > _PRUNE_AT:
            self._prune()

    async def _global_slot(self) -> None:
        while True:
            now = self.clock()
            if now < self._paused_until:
                await self.sleep(self._paused_until - now)
                continue
            slot = max(now, self._next_global)
            self._next_global = slot + self.spacing
            if slot > now:
                await self.sleep(slot - now)
            if self.clock() >= self._paused_until:
                return
            # a 429 arrived while we waited for our slot: the slot is void, queue again

    async def _wait_until(self, moment: float) -> None:
        delay = moment - self.clock()
        if delay > 0:
            await self.sleep(delay)

    def _prune(self) -> None:
        now = self.clock()
        for chat_id in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat_id]


class PacingStore(Protocol):
    """What a shared limiter needs from the database (storage/postgres_pacing.py has it)."""

    async def reserve_slot(
        self, bucket: str, spacing: float, key: str | None, key_gap: float
    ) -> tuple[float, float]: ...

    async def pause_bucket(self, bucket: str, seconds: float) -> None: ...

    async def bucket_paused_for(self, bucket: str) -> float: ...


class SharedRateLimiter:
    """The same limits as :class:`LocalRateLimiter`, kept in the database for every process.

    ``acquire`` reserves, in one statement, the next global slot that is also a chat interval
    after the chat's previous slot, then sleeps until it; the slot times are the database
    server's, so the processes' clocks never matter. ``pause`` (a 429) is written to the
    database: every process's next reservation starts after it, and a slot that a pause
    overtook while its holder slept is given up and reserved again.
    """

    def __init__(
        self,
        store: PacingStore,
        rate_per_second: float,
        *,
        bucket: str = "telegram",
        headroom: float = GLOBAL_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.store = store
        self.rate = rate_per_second
        self.spacing = 1.0 / (rate_per_second * headroom)
        self.bucket = bucket
        self.clock = clock
        self.sleep = sleep
        self._paused_until = 0.0
        self._pause_tasks: set[asyncio.Task[None]] = set()
        self.pauses = 0
        self.granted: list[float] = []  # recent slots (server epoch seconds), for /status and tests

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def pause(self, seconds: float) -> None:
        until = self.clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
        task = asyncio.ensure_future(self._pause_everyone(seconds))
        self._pause_tasks.add(task)
        task.add_done_callback(self._pause_tasks.discard)

    async def _pause_everyone(self, seconds: float) -> None:
        try:
            await self.store.pause_bucket(self.bucket, max(0.0, seconds))
        except Exception as exc:  # the local pause still holds this process
            log.warning("telegram: could not share the 429 pause: %s", exc)

    async def acquire(self, chat_id: int) -> None:
        while True:
            local = self._paused_until - self.clock()
            if local > 0:
                await self.sleep(local)
            slot, wait = await self.store.reserve_slot(
                self.bucket, self.spacing, f"chat:{chat_id}", chat_interval(chat_id)
            )
            if wait > 0:
                await self.sleep(wait)
            if self.clock() < self._paused_until:
                continue  # our own 429 arrived while we waited: the slot is void
            if wait > 0 and await self.store.bucket_paused_for(self.bucket) > 0:
                continue  # another process's 429 arrived while we waited
            self.granted.append(slot)
            if len(self.granted) > 1000:
                del self.granted[:500]
            return


def rate_limiter_for(storage: Any, rate_per_second: float) -> RateLimiter:
    """Shared across processes when the storage can (PostgreSQL), else this process's own."""
    if storage.shared_pacing:
        return SharedRateLimiter(storage, rate_per_second)
    return LocalRateLimiter(rate_per_second)
