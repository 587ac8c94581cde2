"""The application factory: everything the service runs, built in cleanup contexts in order.

storage -> HTTP client session -> channels (email, sms, modem) -> Telegram bot and the
telegram/internal channels -> dispatcher -> periodic jobs. Shutdown runs the other way:
jobs stop, the dispatcher lets in-flight sends finish (or releases them), channels close,
the database closes last. Tests build the app with this same factory. The HTTP handlers
are in ``bot/http/``, the periodic jobs in ``bot/periodic.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts import alerts_ctx
from bot.conversations_runtime import conversations_ctx
from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.sending import Sender
from bot.core.timeutil import Clock, SystemClock
from bot.http import add_routes
from bot.keys import (
    CLOCK,
    CONFIG,
    DISPATCHER,
    HTTP,
    INTAKE,
    METRICS,
    PLANNER,
    SCHEDULER,
    SCHEDULER_HOOKS,
    SENDERS,
    STORAGE,
    TEMPLATES,
)
from bot.periodic import (
    add_time_jobs,
    purge_journal,
    refresh_channels,
    start_catch_up,
    stop_catch_up,
)
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.due import ResolveWhenDue
from bot.pipeline.intake import Intake
from bot.pipeline.planner import Planner
from bot.pipeline.templates import Templates
from bot.receipts import receipts_ctx
from bot.telegram_state import without_bot
from bot.web import add_web_routes
from senders.registry import build_senders
from storage.open import open_storage

log = logging.getLogger("vestnik.app")


def init_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(client_max_size=config.webhook.max_body_bytes + 64 * 1024)
    app[CONFIG] = config
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = Metrics()
    app[SENDERS] = {}
    app[SCHEDULER_HOOKS] = []
    app[TEMPLATES] = Templates(
        timezone=config.service.timezone, region=config.service.default_region
    )
    app[PLANNER] = Planner(config, app[TEMPLATES])
    app.cleanup_ctx.append(storage_ctx)
    app.cleanup_ctx.append(http_session_ctx)
    app.cleanup_ctx.append(senders_ctx)
    app.cleanup_ctx.append(telegram_ctx)
    app.cleanup_ctx.append(receipts_ctx)  # bot/receipts.py
    app.cleanup_ctx.append(alerts_ctx)  # bot/alerts.py
    app.cleanup_ctx.append(conversations_ctx)  # inbound SMS (bot/conversations_runtime.py)
    app.cleanup_ctx.append(dispatcher_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    add_routes(app)
    if config.telegram.enabled:  # (it adds the route in webhook mode only)
        from bot.telegram_runtime import add_telegram_routes  # aiogram: see telegram_ctx

        add_telegram_routes(app)
    add_web_routes(app)  # the managers' pages under /web/ (bot/web/)
    return app


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = open_storage(app[CONFIG].service.database, app[CLOCK])
    await storage.open()
    app[STORAGE] = storage
    try:
        yield
    finally:  # also when a later context fails to start (another serve holds the database)
        await storage.close()


async def http_session_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def senders_ctx(app: web.Application) -> AsyncIterator[None]:
    built = build_senders(app[CONFIG], app[HTTP], app[CLOCK])
    started: list[Sender] = []
    try:
        for sender in dict.fromkeys(built.values()):
            await sender.start()
            started.append(sender)
        app[SENDERS].update(built)
        yield
    finally:
        for sender in reversed(started):
            await sender.close()


async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    """The aiogram bot and the telegram/internal channels (bot/telegram_runtime.py).

    Imported here, and only with the bot on: aiogram takes seconds to import, and a service
    that sends only e-mail or SMS starts without it (bot/telegram_state.py).
    """
    if not app[CONFIG].telegram.enabled:
        async for _ in without_bot(app):
            yield
        return
    from bot.telegram_runtime import telegram_ctx as runtime_ctx

    async for _ in runtime_ctx(app):
        yield


async def dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    storage, senders = app[STORAGE], app[SENDERS]
    dispatcher = Dispatcher(
        storage,
        senders,
        app[CONFIG],
        app[CLOCK],
        app[METRICS],
        due_stage=ResolveWhenDue(storage, app[PLANNER], app[CLOCK]),
    )
    app[DISPATCHER] = dispatcher

    async def committed() -> None:
        dispatcher.wake()
        await storage.notify_new_rows()

    app[INTAKE] = Intake(app[CONFIG], storage, app[PLANNER], app[CLOCK], app[METRICS], committed)
    # SQLite: the one-serve-per-file lock (DatabaseInUse names the other PID) and a dead
    # run's rows settled at once; PostgreSQL: this process is a visible, live owner
    settled = await storage.register_sender(dispatcher.owner)
    if settled:
        log.info("settled %d row(s) a previous run left sending", settled)
    dispatcher.start()
    yield
    await dispatcher.stop(grace=max(1.0, app[CONFIG].service.lease_seconds / 4))


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    scheduler = AsyncIOScheduler(timezone=config.service.tz)
    app[SCHEDULER] = scheduler
    scheduler.add_job(
        purge_journal,
        "cron",
        hour=3,
        minute=17,
        args=[app],
        id="retention",
        coalesce=True,
        misfire_grace_time=3600,
    )
    # balances and modem health: once right after start, then every 10 minutes
    scheduler.add_job(
        refresh_channels,
        "interval",
        minutes=10,
        args=[app],
        id="channels",
        coalesce=True,
        next_run_time=datetime.now(config.service.tz),
    )
    add_time_jobs(app, scheduler)  # birthdays at schedule.daily_at, lease recovery
    for hook in app[SCHEDULER_HOOKS]:
        hook(app, scheduler)
    scheduler.start()
    start_catch_up(app)  # daily jobs missed while the service was down
    yield
    await stop_catch_up(app)
    scheduler.shutdown(wait=False)
