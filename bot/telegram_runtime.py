"""The Telegram side of the app: one aiohttp cleanup context that runs the bot.

``telegram_ctx(app)`` (between the channels and the dispatcher in ``bot/app.py``, which
enters it only with the bot on; without ``telegram.token`` the ``internal`` channel alone is
registered by ``bot/telegram_state.py:without_bot``, and aiogram is never imported):

1. keeps the deep-link helper on ``app[TELEGRAM]`` (bot/telegram_state.py);
2. builds the aiogram ``Bot`` on ``telegram.api_base`` (HTML parse mode) and checks it with
   ``getMe`` (a rejected token stops the service with a clear message; an unreachable API is
   logged and polling keeps retrying);
3. registers the ``telegram`` channel (:class:`~senders.telegram.TelegramSender`) and the
   ``internal`` one (staff inbox) forwarding through it;
4. builds the aiogram Dispatcher with the routers from ``handlers/`` and the services as
   workflow data (bot/telegram_dispatcher.py), sets the command menus (customers: default
   scope; staff: each admin's chat; bot/telegram_menus.py);
5. runs polling as a task (``mode = "polling"``, bot/telegram_polling.py) or sets the webhook
   (``mode = "webhook"``, bot/telegram_webhook.py; updates arrive on
   ``telegram.webhook_path``, checked against ``telegram.webhook_secret``).

On shutdown: polling stops, updates being handled finish (bounded, bot/telegram_inflight.py),
the bot session closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot
from aiogram import Dispatcher as AiogramDispatcher
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import User
from aiohttp import web

from bot.core.config import Config
from bot.core.timeutil import Clock, SystemClock
from bot.keys import CLOCK, CONFIG, SENDERS, STORAGE, TEMPLATES
from bot.pipeline.inbox import StorageInbox
from bot.telegram_dispatcher import build_dispatcher, dispatch_control
from bot.telegram_inflight import finish_updates
from bot.telegram_menus import set_menus
from bot.telegram_polling import polling
from bot.telegram_state import TELEGRAM, TelegramRuntime, start_runtime
from bot.telegram_webhook import register_webhook, webhook_handler
from senders.internal import InternalSender
from senders.telegram import TelegramSender, build_bot
from senders.telegram_limits import rate_limiter_for
from storage.base import Storage

log = logging.getLogger("vestnik.telegram")


class TelegramStartupError(RuntimeError):
    """The bot cannot run with this configuration (e.g. Telegram rejected the token)."""


# the webhook route must exist before the app starts (aiohttp freezes the router) ------------------
def add_telegram_routes(app: web.Application) -> None:
    """``POST telegram.webhook_path`` -> the bot, when ``mode = "webhook"``; call in init_app."""
    config: Config = app[CONFIG]
    if not (config.telegram.enabled and config.telegram.mode == "webhook"):
        return
    for route in app.router.routes():  # idempotent: a second call adds nothing
        if (
            route.method == "POST"
            and route.resource is not None
            and route.resource.canonical == config.telegram.webhook_path
        ):
            return
    app.router.add_post(config.telegram.webhook_path, handle_telegram_update)


async def handle_telegram_update(request: web.Request) -> web.StreamResponse:
    runtime: TelegramRuntime | None = request.app.get(TELEGRAM)
    if runtime is None or runtime.webhook is None:
        return web.Response(status=503, text="the bot is not running")
    return await runtime.webhook.handle(request)


# the cleanup context ------------------------------------------------------------------------------
async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    config: Config = app[CONFIG]
    storage: Storage = app[STORAGE]
    clock: Clock = app.get(CLOCK) or SystemClock()
    senders: dict[str, Any] = app[SENDERS]
    runtime, links = start_runtime(app)
    templates = app.get(TEMPLATES)

    bot = build_bot(config.telegram)
    runtime.bot = bot
    try:
        runtime.me = await preflight(bot)
        if runtime.me is not None:
            links.bot_username = runtime.me.username
        _register_channels(runtime, bot, config, storage, clock, senders)
        dp = runtime.dispatcher = build_dispatcher(
            storage=storage,
            config=config,
            senders=senders,
            clock=clock,
            control=dispatch_control(app),
            inflight=runtime.inflight,
            templates=templates,
        )
        if runtime.me is not None:
            await set_menus(bot, config)
        async with _receive_updates(dp, bot, runtime, config):
            yield
    finally:
        senders.pop("telegram", None)
        senders.pop("internal", None)
        await finish_updates(runtime.inflight, runtime.webhook)
        await bot.session.close()


def _register_channels(
    runtime: TelegramRuntime,
    bot: Bot,
    config: Config,
    storage: Storage,
    clock: Clock,
    senders: dict[str, Any],
) -> None:
    """The ``telegram`` channel, and ``internal`` (staff inbox) forwarding through it."""
    max_wait = max(1.0, min(60.0, config.service.lease_seconds / 2))
    limiter = rate_limiter_for(storage, config.telegram.rate_per_second)
    runtime.sender = TelegramSender(
        bot, limiter=limiter, rate_per_second=config.telegram.rate_per_second, max_wait=max_wait
    )
    runtime.internal = InternalSender(StorageInbox(storage, clock), telegram=runtime.sender)
    senders["telegram"] = runtime.sender
    senders["internal"] = runtime.internal


@contextlib.asynccontextmanager
async def _receive_updates(
    dp: AiogramDispatcher, bot: Bot, runtime: TelegramRuntime, config: Config
) -> AsyncIterator[None]:
    """Updates for the life of the block: through the webhook route, or a polling task."""
    if config.telegram.mode == "webhook":
        runtime.webhook = webhook_handler(dp, bot, config)
        await register_webhook(bot, dp, config)
        yield
    else:
        async with polling(dp, bot, runtime, config):
            yield


async def preflight(bot: Bot) -> User | None:
    """``getMe``: a rejected token is fatal; an unreachable API is not (polling retries)."""
    try:
        me = await asyncio.wait_for(bot.get_me(), 30)
    except TelegramUnauthorizedError as exc:
        raise TelegramStartupError(
            f"Telegram rejected telegram.token ({exc.message}); check the token from "
            "@BotFather or remove it to run without the bot"
        ) from None
    except (TelegramAPIError, TimeoutError, OSError) as exc:
        log.warning("Telegram Bot API is not reachable yet (%s); the bot keeps trying", exc)
        return None
    log.info("telegram bot @%s (id %s) ready", me.username, me.id)
    return me
