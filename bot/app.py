"""The application factory: everything the service runs, built in cleanup contexts in order.

storage -> HTTP client session -> channels (email, sms, modem) -> Telegram bot and the
telegram/internal channels -> dispatcher -> periodic jobs. Shutdown runs the other way:
jobs stop, the dispatcher lets in-flight sends finish (or releases them), channels close,
the database closes last. Tests build the app with this same factory.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.sending import Sender
from bot.core.timeutil import Clock, SystemClock
from bot.periodic import add_time_jobs, start_catch_up, stop_catch_up
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.intake import Intake
from bot.pipeline.planner import Planner
from bot.pipeline.templates import Templates
from bot.pipeline.webhook_auth import authenticate
from bot.telegram_runtime import add_telegram_routes
from senders.registry import build_senders
from storage.base import JournalFilter, Storage, StorageUnavailable
from storage.models import JournalRow
from storage.open import open_storage

log = logging.getLogger("vestnik.app")
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning)


def init_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(client_max_size=config.webhook.max_body_bytes + 64 * 1024)
    app["config"] = config
    app["clock"] = clock or SystemClock()
    app["metrics"] = Metrics()
    app["senders"] = {}
    app["templates"] = Templates(timezone=config.service.timezone,
                                 region=config.service.default_region)
    app["planner"] = Planner(config, app["templates"])
    app.cleanup_ctx.append(storage_ctx)
    app.cleanup_ctx.append(http_session_ctx)
    app.cleanup_ctx.append(senders_ctx)
    app.cleanup_ctx.append(telegram_ctx)
    app.cleanup_ctx.append(dispatcher_ctx)
    app.cleanup_ctx.append(scheduler_ctx)
    app.router.add_post(config.webhook.path, handle_events)
    app.router.add_get("/healthz", handle_health)
    app.router.add_get("/metrics", handle_metrics)
    app.router.add_get("/journal", handle_journal_list)
    app.router.add_get("/journal/{id:\\d+}", handle_journal_row)
    app.router.add_post("/journal/{id:\\d+}/resend", handle_journal_resend)
    add_telegram_routes(app)
    return app


# cleanup contexts ------------------------------------------------------------------------------
async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = open_storage(app["config"].service.database)
    await storage.open()
    app["storage"] = storage
    yield
    await storage.close()


async def http_session_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app["http"] = session
        yield


async def senders_ctx(app: web.Application) -> AsyncIterator[None]:
    built = build_senders(app["config"], app["http"], app["clock"])
    started: list[Sender] = []
    try:
        for sender in dict.fromkeys(built.values()):
            await sender.start()
            started.append(sender)
        app["senders"].update(built)
        yield
    finally:
        for sender in reversed(started):
            await sender.close()


async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    """The aiogram bot and the telegram/internal channels (bot/telegram_runtime.py)."""
    from bot.telegram_runtime import telegram_ctx as runtime_ctx

    async for _ in runtime_ctx(app):
        yield


async def dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    dispatcher = Dispatcher(app["storage"], app["senders"], app["config"], app["clock"],
                            app["metrics"])
    app["dispatcher"] = dispatcher
    planner: Planner = app["planner"]

    async def resolve_when_due(row: JournalRow) -> JournalRow:
        """Rows planned ahead look their recipient up again (SPEC §4); others go as planned."""
        if not row.options.get("resolve_when_due"):
            return row
        async with app["storage"].reader() as tx:
            fresh, changed = await planner.resolve_due(tx, row, app["clock"].now())
        if changed:
            await app["storage"].write(lambda tx: tx.update_planned(fresh))
        return fresh

    dispatcher.before_send = resolve_when_due

    async def committed() -> None:
        dispatcher.wake()
        await app["storage"].notify_new_rows()

    app["intake"] = Intake(app["config"], app["storage"], app["planner"], app["clock"],
                           app["metrics"], committed)
    dispatcher.start()
    yield
    await dispatcher.stop(grace=max(1.0, app["config"].service.lease_seconds / 4))


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    config: Config = app["config"]
    scheduler = AsyncIOScheduler(timezone=config.service.tz)
    app["scheduler"] = scheduler
    hour, minute = (int(x) for x in config.schedule.daily_at.split(":"))
    scheduler.add_job(purge_journal, "cron", hour=3, minute=17, args=[app], id="retention",
                      coalesce=True, misfire_grace_time=3600)
    # balances and modem health: once right after start, then every 10 minutes
    scheduler.add_job(refresh_channels, "interval", minutes=10, args=[app], id="channels",
                      coalesce=True, next_run_time=datetime.now(config.service.tz))
    add_time_jobs(app, scheduler)  # birthdays at schedule.daily_at, lease recovery
    for hook in app.get("scheduler_hooks", []):
        hook(app, scheduler)
    scheduler.start()
    start_catch_up(app)  # daily jobs missed while the service was down
    yield
    await stop_catch_up(app)
    scheduler.shutdown(wait=False)


async def purge_journal(app: web.Application) -> int:
    """Retention: rows older than schedule.retention_days that are finished go away."""
    if not await app["storage"].try_leadership():
        return 0
    before = app["clock"].now() - timedelta(days=app["config"].schedule.retention_days)
    removed = await app["storage"].write(lambda tx: tx.purge_journal(before))
    if removed:
        log.info("retention: removed %d journal rows older than %s", removed, before.date())
    return removed


async def refresh_channels(app: web.Application) -> None:
    """Portal balances and modem health snapshots for /status and /healthz."""
    for sender in dict.fromkeys(app["senders"].values()):
        refresh = getattr(sender, "refresh", None) or getattr(sender, "refresh_balances", None)
        if refresh is not None:
            try:
                await refresh()
            except Exception as exc:  # a status snapshot must never break the service
                log.warning("%s: status refresh failed: %s", sender.channel, exc)


# HTTP handlers ---------------------------------------------------------------------------------
async def handle_events(request: web.Request) -> web.Response:
    intake: Intake = request.app["intake"]
    return await intake.handle(request)


async def handle_health(request: web.Request) -> web.Response:
    app = request.app
    storage: Storage = app["storage"]
    database_ok = await storage.ping()
    body: dict[str, Any] = {"status": "ok" if database_ok else "down",
                            "database": "ok" if database_ok else "down", "channels": {}}
    for name, sender in app["senders"].items():
        try:
            body["channels"][name] = sender.status()
        except Exception as exc:  # status must never fail the health check
            body["channels"][name] = {"error": str(exc)}
    dispatcher: Dispatcher | None = app.get("dispatcher")
    if dispatcher is not None:
        body["last_errors"] = dispatcher.last_error
    body["leader"] = getattr(storage, "is_leader", True)  # runs the periodic jobs
    if database_ok:
        try:
            async with storage.reader() as tx:
                body["queue"] = await tx.counts()
        except StorageUnavailable:
            database_ok = False
            body["status"] = body["database"] = "down"
    return web.json_response(body, status=200 if database_ok else 503, dumps=_dumps)


async def handle_metrics(request: web.Request) -> web.Response:
    app = request.app
    metrics: Metrics = app["metrics"]
    try:
        async with app["storage"].reader() as tx:
            counts = await tx.counts()
        metrics.queue_depth.clear()
        for channel, statuses in counts.items():
            for status in ("pending", "scheduled", "sending"):
                metrics.queue_depth.labels(channel, status).set(statuses.get(status, 0))
    except StorageUnavailable:
        pass
    return web.Response(body=metrics.render(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def _authorised(request: web.Request, body: bytes = b"") -> bool:
    import time

    return authenticate(request.app["config"].webhook, request.headers, body, time.time()) is None


async def handle_journal_list(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"error": "unauthorized"}, status=401)
    flt = JournalFilter({key: request.query[key] for key in
                         ("status", "channel", "event_id", "address", "order")
                         if request.query.get(key)})
    try:
        flt["limit"] = min(int(request.query.get("limit", "50")), 1000)
    except ValueError:
        return web.json_response({"error": "limit must be a number"}, status=400)
    async with request.app["storage"].reader() as tx:
        rows = await tx.list_journal(flt)
    return web.json_response([row.public() for row in rows], dumps=_dumps)


async def handle_journal_row(request: web.Request) -> web.Response:
    if not _authorised(request):
        return web.json_response({"error": "unauthorized"}, status=401)
    async with request.app["storage"].reader() as tx:
        row = await tx.get_journal(int(request.match_info["id"]))
    if row is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(row.public(), dumps=_dumps)


async def handle_journal_resend(request: web.Request) -> web.Response:
    body = await request.read()
    if not _authorised(request, body):
        return web.json_response({"error": "unauthorized"}, status=401)
    row_id = int(request.match_info["id"])
    now = request.app["clock"].now()
    row = await request.app["storage"].write(lambda tx: tx.resend(row_id, now))
    if row is None:
        return web.json_response({"error": "not found or being sent"}, status=404)
    request.app["dispatcher"].wake()
    return web.json_response(row.public(), dumps=_dumps)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)
