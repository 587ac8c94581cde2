"""The time-driven periodic jobs (issue 5), registered on the app's APScheduler in
``scheduler_ctx``: the daily birthday scan at ``schedule.daily_at`` (service time zone), lease
recovery every half lease, and a catch-up run of the daily jobs at start-up (missed days
after downtime). Every job runs only on the leader (PostgreSQL advisory lock; always true on
SQLite). Retention (``purge_journal``) and channel snapshots live in bot/app.py.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler

from bot.core.config import Config
from bot.pipeline.birthdays import birthday_job
from bot.pipeline.schedule import daily_time
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.periodic")

LEADERSHIP_POLL = 1.0  # seconds between leadership checks before the start-up catch-up


def add_time_jobs(app: web.Application, scheduler: BaseScheduler) -> None:
    config: Config = app["config"]
    at = daily_time(config)
    scheduler.add_job(birthday_job, "cron", hour=at.hour, minute=at.minute, args=[app],
                      id="birthdays", coalesce=True, misfire_grace_time=3600)
    scheduler.add_job(recover_leases, "interval", args=[app], id="leases", coalesce=True,
                      seconds=max(5, config.service.lease_seconds // 2))


def start_catch_up(app: web.Application) -> None:
    """Run the missed daily jobs in the background (``app["catch_up"]``: tests await it)."""
    app["catch_up"] = asyncio.create_task(catch_up(app), name="catch-up")


async def stop_catch_up(app: web.Application) -> None:
    task: asyncio.Task[None] | None = app.get("catch_up")
    if task is not None and not task.done():
        task.cancel()
    if task is not None:
        await asyncio.gather(task, return_exceptions=True)


async def catch_up(app: web.Application) -> None:
    """Runs once this process leads (a restarted leader may wait for its old lock to go;
    a follower waits until the leader dies and it takes over)."""
    try:
        while not await app["storage"].try_leadership():
            await asyncio.sleep(LEADERSHIP_POLL)
        await birthday_job(app)
    except StorageUnavailable as exc:
        log.warning("catch-up of the daily jobs postponed to their next run: %s", exc)


async def recover_leases(app: web.Application) -> int:
    if not await app["storage"].try_leadership():
        return 0
    return await app["dispatcher"].recover_leases()
