"""The Telegram side of the app: one aiohttp cleanup context that runs the bot.

``telegram_ctx(app)`` (between the channels and the dispatcher in ``bot/app.py``):

1. registers the ``internal`` channel (staff inbox) — always, even without a token;
2. without ``telegram.token`` stops there: no bot, no ``telegram`` channel;
3. builds the aiogram ``Bot`` on ``telegram.api_base`` (HTML parse mode) and checks it with
   ``getMe`` (a rejected token stops the service with a clear message; an unreachable API is
   logged and polling keeps retrying);
4. registers the ``telegram`` channel (:class:`~senders.telegram.TelegramSender`) and lets
   ``internal`` forward through it;
5. builds the aiogram Dispatcher with the routers from ``handlers/`` and the services as
   workflow data (``storage``, ``config``, ``senders``, ``clock``, ``link_secret``,
   ``control``, ``templates``) and the dialogue state in the database (bot/telegram_fsm.py),
   sets the command menus (customers: default scope; staff: each admin's chat);
6. runs polling as a task (``mode = "polling"``) or sets the webhook (``mode = "webhook"``;
   updates arrive on ``telegram.webhook_path``, checked against ``telegram.webhook_secret``).

On shutdown: polling stops, updates being handled finish (bounded), the bot session closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram import Dispatcher as AiogramDispatcher
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault, TelegramObject, User
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.core.config import Config
from bot.core.timeutil import Clock, SystemClock
from bot.keys import CLOCK, CONFIG, DISPATCHER, SENDERS, STORAGE, TEMPLATES
from bot.pipeline.deep_links import TelegramLinkHelper, link_secret
from bot.pipeline.inbox import StorageInbox
from bot.pipeline.templates import Templates
from bot.services.control import DispatchControl
from bot.telegram_fsm import DatabaseFsmStorage
from handlers import build_routers
from handlers.menu import customer_menu, staff_menu
from senders.internal import InternalSender
from senders.telegram import TelegramSender, build_bot
from senders.telegram_limits import rate_limiter_for
from storage.base import Storage

log = logging.getLogger("vestnik.telegram")

SHUTDOWN_GRACE = 5.0  # seconds updates in progress get to finish
POLLING_RETRY = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between restarts of a failed poller


class TelegramStartupError(RuntimeError):
    """The bot cannot run with this configuration (e.g. Telegram rejected the token)."""


@dataclass(slots=True)
class TelegramRuntime:
    """What the context built; stored as ``app[TELEGRAM]`` for tests and /healthz."""

    bot: Bot | None = None
    dispatcher: AiogramDispatcher | None = None
    me: User | None = None
    sender: TelegramSender | None = None
    internal: InternalSender | None = None
    links: TelegramLinkHelper | None = None
    webhook: SimpleRequestHandler | None = None
    inflight: set[asyncio.Task[Any]] = field(default_factory=set)


TELEGRAM = web.AppKey("telegram", TelegramRuntime)


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


def webhook_secret(config: Config) -> str:
    """``telegram.webhook_secret``, or one derived from the token (1-256 chars of A-Za-z0-9_-)."""
    tg = config.telegram
    if tg.webhook_secret is not None and tg.webhook_secret.get_secret_value():
        return tg.webhook_secret.get_secret_value()
    token = tg.token.get_secret_value() if tg.token else ""
    return hmac.new(token.encode(), b"vestnik webhook secret", hashlib.sha256).hexdigest()


# the cleanup context ------------------------------------------------------------------------------
async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    config: Config = app[CONFIG]
    storage: Storage = app[STORAGE]
    clock: Clock = app.get(CLOCK) or SystemClock()
    senders: dict[str, Any] = app[SENDERS]
    runtime = TelegramRuntime()
    app[TELEGRAM] = runtime
    links = TelegramLinkHelper(link_secret(config.telegram), config.telegram.link_ttl_days, clock)
    runtime.links = links
    templates = app.get(TEMPLATES)
    if templates is not None:  # {{ telegram_link(customer) }} ("" until the bot is known)
        templates.register_function("telegram_link", links)

    if not config.telegram.enabled:
        runtime.internal = senders["internal"] = InternalSender(StorageInbox(storage, clock))
        try:
            yield
        finally:
            senders.pop("internal", None)
        return

    bot = build_bot(config.telegram)
    runtime.bot = bot
    try:
        runtime.me = await preflight(bot)
        if runtime.me is not None:
            links.bot_username = runtime.me.username
        max_wait = max(1.0, min(60.0, config.service.lease_seconds / 2))
        limiter = rate_limiter_for(storage, config.telegram.rate_per_second)
        runtime.sender = TelegramSender(
            bot, limiter=limiter, rate_per_second=config.telegram.rate_per_second, max_wait=max_wait
        )
        runtime.internal = InternalSender(StorageInbox(storage, clock), telegram=runtime.sender)
        senders["telegram"] = runtime.sender
        senders["internal"] = runtime.internal

        dp = build_dispatcher(
            storage=storage,
            config=config,
            senders=senders,
            clock=clock,
            control=dispatch_control(app),
            inflight=runtime.inflight,
            templates=templates,
        )
        runtime.dispatcher = dp
        if runtime.me is not None:
            await set_menus(bot, config)
        if config.telegram.mode == "webhook":
            runtime.webhook = SimpleRequestHandler(
                dispatcher=dp, bot=bot, secret_token=webhook_secret(config)
            )
            await register_webhook(bot, dp, config)
            yield
        else:
            async with polling(dp, bot, runtime, config):
                yield
    finally:
        senders.pop("telegram", None)
        senders.pop("internal", None)
        await finish_updates(runtime)
        await bot.session.close()


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


def build_dispatcher(
    *,
    storage: Storage,
    config: Config,
    senders: dict[str, Any],
    clock: Clock,
    control: DispatchControl,
    inflight: set[asyncio.Task[Any]] | None = None,
    templates: Templates | None = None,
) -> AiogramDispatcher:
    """A Dispatcher with fresh routers and the services every handler and filter may ask for."""
    # dialogue state (the rule wizard) lives in the database, shared by every process; the
    # workflow key ``storage`` is ours, so it is set after the constructor, whose own
    # ``storage`` parameter is the FSM store
    fsm = DatabaseFsmStorage(
        storage, clock, ttl=timedelta(hours=config.telegram.dialogue_ttl_hours)
    )
    dp = AiogramDispatcher(
        storage=fsm,
        config=config,
        senders=senders,
        clock=clock,
        control=control,
        link_secret=link_secret(config.telegram),
        templates=templates
        or Templates(timezone=config.service.timezone, region=config.service.default_region),
    )
    dp["storage"] = storage
    dp.include_routers(*build_routers())
    if inflight is not None:
        # outermost, so the error handlers (aiogram's ErrorsMiddleware) run inside it too
        manager = dp.update.outer_middleware
        existing = list(manager)
        for middleware in existing:
            manager.unregister(middleware)
        manager.register(_track(inflight))
        for middleware in existing:
            manager.register(middleware)
    return dp


def _track(inflight: set[asyncio.Task[Any]]) -> Callable[..., Awaitable[Any]]:
    """Outer middleware: remember the task of every update being handled (for shutdown)."""

    async def middleware(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        task = asyncio.current_task()
        if task is not None:
            inflight.add(task)
        try:
            return await handler(event, data)
        finally:
            if task is not None:
                inflight.discard(task)

    return middleware


def dispatch_control(app: web.Application) -> DispatchControl:
    """The notification dispatcher starts after the bot: look it up when needed."""

    def wake() -> None:
        dispatcher = app.get(DISPATCHER)
        if dispatcher is not None:
            dispatcher.wake()

    def last_errors() -> dict[str, str]:
        dispatcher = app.get(DISPATCHER)
        return dict(getattr(dispatcher, "last_error", {}) or {})

    return DispatchControl(wake=wake, last_errors=last_errors)


async def set_menus(bot: Bot, config: Config) -> None:
    """Customers' menu in the default scope (Russian, and English for English clients); the
    staff menu in each admin's chat. Staff linked by phone get theirs when they register."""
    default = config.service.language
    calls: list[tuple[list[Any], Any, str | None]] = [
        (customer_menu(default), BotCommandScopeDefault(), None),
        (customer_menu("en"), BotCommandScopeDefault(), "en"),
    ]
    for admin in config.telegram.admins:
        calls.append((staff_menu(default), BotCommandScopeChat(chat_id=admin), None))
        calls.append((staff_menu("en"), BotCommandScopeChat(chat_id=admin), "en"))
    for commands, scope, language in calls:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramAPIError as exc:  # e.g. an admin who never opened the bot
            log.warning("set_my_commands(%s): %s", scope, exc)


async def register_webhook(bot: Bot, dp: AiogramDispatcher, config: Config) -> None:
    url = config.telegram.webhook_url.rstrip("/")
    if not url.endswith(config.telegram.webhook_path):
        url += config.telegram.webhook_path
    try:
        await bot.set_webhook(
            url, secret_token=webhook_secret(config), allowed_updates=dp.resolve_used_update_types()
        )
    except TelegramAPIError as exc:
        log.error("set_webhook(%s) failed: %s; Telegram will not deliver updates", url, exc)


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


async def finish_updates(runtime: TelegramRuntime) -> None:
    """Let updates being handled finish (their answers need the session), then cancel."""
    tasks = set(runtime.inflight)
    if runtime.webhook is not None:
        tasks |= set(runtime.webhook._background_feed_update_tasks)
    current = asyncio.current_task()
    if current is not None:
        tasks.discard(current)
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
