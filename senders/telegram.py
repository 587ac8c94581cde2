"""The telegram channel: ``Bot.send_message`` in HTML parse mode, paced, with errors classified.

- Texts longer than Telegram's 4096 characters are split at line boundaries; tags open at a
  cut are closed and reopened, entities are never cut (:func:`split_message`).
- Every send takes a slot from the :class:`~senders.telegram_limits.RateLimiter` (global rate,
  1/s per chat, 20/min per group).
- 429: the whole channel pauses for ``retry_after`` and the same message is sent again inside
  this call, which does not count as an attempt. Only when the wait would exceed ``max_wait``
  does the row go back to the dispatcher (``TransientError(counts_as_attempt=False)``).
- 403 (blocked, deactivated, can't initiate) and 400 "chat not found" are permanent and ask the
  dispatcher to deactivate the chat link; other 400s are permanent for this message;
  5xx, network errors and unreadable answers are transient.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import Message

from bot.core.config import Config, TelegramConfig
from bot.core.sending import OutgoingMessage, PermanentError, SendResult, TransientError
from bot.core.telegram_text import split_message
from senders.telegram_limits import LocalRateLimiter, RateLimiter

log = logging.getLogger("vestnik.telegram")

DEFAULT_MAX_WAIT = 60.0  # seconds one send may spend waiting for slots and 429 pauses
# 400 answers that mean the chat itself is gone: the link is deactivated like a 403
DEAD_CHAT_MARKERS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "bot was kicked",
    "group chat was upgraded",
    "chat_write_forbidden",
)


# the sender ---------------------------------------------------------------------------------------
def build_bot(config: TelegramConfig, *, session: AiohttpSession | None = None) -> Bot:
    """A Bot on ``telegram.api_base`` with HTML as the default parse mode."""
    assert config.token is not None
    session = session or AiohttpSession(api=TelegramAPIServer.from_base(config.api_base))
    return Bot(
        config.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


class TelegramSender:
    """The ``telegram`` channel; ``message.address`` is the chat id."""

    channel = "telegram"

    def __init__(
        self,
        bot: Bot,
        *,
        limiter: RateLimiter | None = None,
        rate_per_second: float = 25,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.limiter = limiter or LocalRateLimiter(rate_per_second)
        self.max_wait = max_wait
        self.clock = clock
        # enough parallel sends to keep the limiter's slots busy while requests are in flight
        self.concurrency = max(8, int(rate_per_second * 2))
        self.sent = 0
        self.flood_waits = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:  # the runtime owns the bot session
        return None

    async def refresh(self) -> None:
        return None  # nothing to refresh: the status is kept as sends happen

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sent": self.sent, "flood_waits": self.flood_waits}
        paused = getattr(self.limiter, "paused_until", 0.0) - self.clock()
        if paused > 0:
            out["paused_for_seconds"] = round(paused, 1)
        if self.last_error:
            out["last_error"] = self.last_error
        return out

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            chat_id = int(message.address)
        except (TypeError, ValueError):
            raise PermanentError(
                f"not a Telegram chat id: {message.address!r}", provider="telegram"
            ) from None
        parts = split_message(message.text)
        deadline = self.clock() + self.max_wait
        ids = []
        for part in parts:
            sent = await self._send_part(chat_id, part, deadline)
            chat_id = sent.chat.id  # a group may have migrated to a supergroup
            ids.append(str(sent.message_id))
        self.sent += 1
        return SendResult(
            provider="telegram",
            provider_message_id=",".join(ids),
            segments=len(parts) if len(parts) > 1 else None,
        )

    async def _send_part(self, chat_id: int, text: str, deadline: float) -> Message:
        migrated = False
        while True:
            try:
                await asyncio.wait_for(
                    self.limiter.acquire(chat_id), max(0.0, deadline - self.clock())
                )
            except TimeoutError:
                raise TransientError(
                    "telegram: send slots are busy (rate limit), will retry",
                    provider="telegram",
                    counts_as_attempt=False,
                    retry_after=5.0,
                ) from None
            try:
                return await self.bot.send_message(chat_id, text)
            except TelegramRetryAfter as exc:
                self.flood_waits += 1
                self.limiter.pause(exc.retry_after)
                self._note(f"429 flood control: retry after {exc.retry_after} s")
                if self.clock() + exc.retry_after > deadline:
                    raise TransientError(
                        f"telegram flood control: retry after {exc.retry_after} s",
                        provider="telegram",
                        counts_as_attempt=False,
                        retry_after=float(exc.retry_after),
                    ) from None
                log.info("telegram 429: all sending paused for %s s", exc.retry_after)
            except TelegramMigrateToChat as exc:
                if migrated:
                    raise self._classify(exc) from None
                migrated = True
                log.info("chat %s migrated to %s", chat_id, exc.migrate_to_chat_id)
                chat_id = exc.migrate_to_chat_id
            except (TelegramAPIError, ClientDecodeError) as exc:
                raise self._classify(exc) from None

    def _classify(self, exc: Exception) -> PermanentError | TransientError:
        description = getattr(exc, "message", None) or str(exc)
        self._note(description)
        if isinstance(exc, TelegramForbiddenError):
            return PermanentError(description, provider="telegram", deactivate_chat=True)
        if isinstance(exc, TelegramBadRequest):
            dead = any(marker in description.lower() for marker in DEAD_CHAT_MARKERS)
            return PermanentError(description, provider="telegram", deactivate_chat=dead)
        if isinstance(exc, TelegramUnauthorizedError):
            return TransientError(f"{description} (check telegram.token)", provider="telegram")
        if isinstance(exc, TelegramNotFound):
            return TransientError(f"{description} (check telegram.api_base)", provider="telegram")
        if isinstance(exc, (TelegramServerError, TelegramNetworkError, ClientDecodeError)):
            return TransientError(f"telegram: {description}", provider="telegram")
        return PermanentError(description, provider="telegram")

    def _note(self, error: str) -> None:
        self.last_error, self.last_error_at = error, time.time()


@asynccontextmanager
async def standalone_sender(
    config: Config, session: aiohttp.ClientSession | None = None
) -> AsyncIterator[TelegramSender]:
    """A sender with its own Bot for one-off use (``vestnik send-test telegram``).

    ``session`` is accepted for symmetry with the other channels; aiogram keeps its own.
    """
    bot = build_bot(config.telegram)
    try:
        yield TelegramSender(bot, rate_per_second=config.telegram.rate_per_second)
    finally:
        await bot.session.close()
