"""The time-driven periodic jobs (issue 5), registered on the app's APScheduler in
``scheduler_ctx``: the daily birthday scan at ``schedule.daily_at`` (service time zone), lease
recovery every half lease, and a catch-up run of the daily jobs at start-up (missed days
after downtime). Every job runs only on the leader (PostgreSQL advisory lock; always true on
SQLite). Also retention (``purge_journal``) and the channels' status snapshots.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler

from bot.core.config import Config
from bot.keys import CATCH_UP, CLOCK, CONFIG, DISPATCHER, INTAKE, SENDERS, STORAGE
from bot.pipeline.birthdays import scan_birthdays
from bot.pipeline.schedule import daily_time
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.periodic")

LEADERSHIP_POLL = 1.0  # seconds between leadership checks before the start-up catch-up


def add_time_jobs(app: web.Application, scheduler: BaseScheduler) -> None:
    config: Config = app[CONFIG]
    at = daily_time(config)
    scheduler.add_job(
        birthday_job,
        "cron",
        hour=at.hour,
        minute=at.minute,
        args=[app],
        id="birthdays",
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        recover_leases,
        "interval",
        args=[app],
        id="leases",
        coalesce=True,
        seconds=max(5, config.service.lease_seconds // 2),
    )


def start_catch_up(app: web.Application) -> None:
    """Run the missed daily jobs in the background (``app[CATCH_UP]``: tests await it)."""
    app[CATCH_UP] = asyncio.create_task(catch_up(app), name="catch-up")


async def stop_catch_up(app: web.Application) -> None:
    task: asyncio.Task[None] | None = app.get(CATCH_UP)
    if task is not None and not task.done():
        task.cancel()
    if task is not None:
        await asyncio.gather(task, return_exceptions=True)


async def catch_up(app: web.Application) -> None:
    """Runs once this process leads (a restarted leader may wait for its old lock to go;
    a follower waits until the leader dies and it takes over)."""
    try:
        while not await app[STORAGE].try_leadership():
            await asyncio.sleep(LEADERSHIP_POLL)
        await birthday_job(app)
    except StorageUnavailable as exc:
        log.warning("catch-up of the daily jobs postponed to their next run: %s", exc)


async def recover_leases(app: web.Application) -> int:
    if not await app[STORAGE].try_leadership():
        return 0
    return await app[DISPATCHER].recover_leases()


async def birthday_job(app: web.Application) -> int:
    """The APScheduler job: only the leader scans; the dispatcher is woken for new rows."""
    storage = app[STORAGE]
    if not await storage.try_leadership():
        return 0
    planned = await scan_birthdays(storage, app[INTAKE], app[CONFIG], app[CLOCK])
    if planned:
        app[DISPATCHER].wake()
        await storage.notify_new_rows()
    return planned


async def purge_journal(app: web.Application) -> int:
    """Retention: rows older than schedule.retention_days that are finished go away."""
    if not await app[STORAGE].try_leadership():
        return 0
    before = app[CLOCK].now() - timedelta(days=app[CONFIG].schedule.retention_days)
    removed = await app[STORAGE].write(lambda tx: tx.purge_journal(before))
    if removed:
        log.info("retention: removed %d journal rows older than %s", removed, before.date())
    return removed


async def refresh_channels(app: web.Application) -> None:
    """Portal balances and modem health snapshots for /status and /healthz."""
    for sender in dict.fromkeys(app[SENDERS].values()):
        try:
            await sender.refresh()
        except Exception as exc:  # a status snapshot must never break the service
            log.warning("%s: status refresh failed: %s", sender.channel, exc)
