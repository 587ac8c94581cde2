"""Pacing for the telegram channel: Telegram's flood limits as data, and an in-process limiter.

Telegram allows "about 30 messages per second" per bot, at most one message per second in one
chat and 20 messages per minute in one group; a 429 answer says how long the *whole bot* must
wait. :class:`LocalRateLimiter` keeps those limits for one process by handing out send slots:

- global: strict spacing at ``rate_per_second`` (times :data:`GLOBAL_HEADROOM`, so network
  jitter does not push two sends into the same second on Telegram's side);
- per chat: one slot per :data:`CHAT_INTERVAL` seconds in a private chat, per
  :data:`GROUP_INTERVAL` in a group (negative chat id); messages to one chat go in order;
- ``pause(seconds)`` after a 429 holds every sender until the deadline.

The interface is two methods (:class:`RateLimiter`), so a limiter shared by several processes
(a token bucket in the database) can replace this one without touching the sender.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

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

    def __init__(self, rate_per_second: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 headroom: float = GLOBAL_HEADROOM) -> None:
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
