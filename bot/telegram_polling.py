"""Polling mode (``telegram.mode = "polling"``): long polling as a task, restarted on failure.

A poller that fails on the network or the API server is restarted after ``POLLING_RETRY``;
a rejected token stops it. When the API was unreachable at startup, the first successful
round learns the bot's name and sets the menus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram import Dispatcher as AiogramDispatcher
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot.core.config import Config
from bot.telegram_inflight import SHUTDOWN_GRACE
from bot.telegram_menus import set_menus

if TYPE_CHECKING:
    from bot.telegram_state import TelegramRuntime

log = logging.getLogger("vestnik.telegram")

POLLING_RETRY = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between restarts of a failed poller


@contextlib.asynccontextmanager
async def polling(
    dp: AiogramDispatcher, bot: Bot, runtime: TelegramRuntime, config: Config
) -> AsyncIterator[None]:
    """Run polling as a task for the life of the block (signals stay aiohttp's)."""
    stopping = asyncio.Event()

    async def run() -> None:
        for attempt in range(10**9):
            try:
                with contextlib.suppress(TelegramAPIError):
                    await bot.delete_webhook(drop_pending_updates=False)
                if runtime.me is None:  # the API was unreachable at startup
                    runtime.me = await bot.get_me()
                    if runtime.links is not None:
                        runtime.links.bot_username = runtime.me.username
                    await set_menus(bot, config)
                await dp.start_polling(bot, handle_signals=False, close_bot_session=False)
                return
            except asyncio.CancelledError:
                raise
            except TelegramUnauthorizedError as exc:
                log.error("Telegram rejected the token (%s): the bot stops", exc.message)
                return
            except Exception as exc:  # the network or the API server: try again later
                delay = POLLING_RETRY[min(attempt, len(POLLING_RETRY) - 1)]
                log.warning("telegram polling stopped (%s); restarting in %.0f s", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            if stopping.is_set():
                return

    task = asyncio.create_task(run(), name="telegram-polling")
    try:
        yield
    finally:
        stopping.set()
        with contextlib.suppress(RuntimeError):  # "Polling is not started"
            await asyncio.wait_for(dp.stop_polling(), SHUTDOWN_GRACE)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await task
