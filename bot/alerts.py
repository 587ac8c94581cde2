"""Staff alerts in the running service: the checks every ``CHECK_EVERY`` seconds and the
daily digest at ``alerts.digest_at``, both on the leader only (bot/services/alerts.py and
bot/services/watch.py have the logic)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler

from bot.core.alert_texts import alert_text
from bot.keys import CLOCK, CONFIG, METRICS, SCHEDULER_HOOKS, SENDERS, STORAGE
from bot.services.alerts import FailureAlerts, Notifier, digest_text
from bot.services.watch import Watch
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.alerts")

CHECK_EVERY = 30  # seconds; grouping is by alerts.every, this is only how soon we look


@dataclass
class StaffAlerts:
    notifier: Notifier
    failures: FailureAlerts
    watch: Watch


ALERTS = web.AppKey("alerts", StaffAlerts)


async def alerts_ctx(app: web.Application) -> AsyncIterator[None]:
    config, senders = app[CONFIG], app[SENDERS]
    if config.alerts.enabled:
        notifier = Notifier(config, senders, app[METRICS])
        app[ALERTS] = StaffAlerts(
            notifier,
            FailureAlerts(app[STORAGE], app[CLOCK], config, notifier),
            Watch(app[STORAGE], app[CLOCK], config, senders, notifier, app[METRICS]),
        )
        app[SCHEDULER_HOOKS].append(add_alert_jobs)
    yield


def add_alert_jobs(app: web.Application, scheduler: BaseScheduler) -> None:
    scheduler.add_job(
        check_alerts,
        "interval",
        seconds=CHECK_EVERY,
        args=[app],
        id="alerts",
        coalesce=True,
        max_instances=1,
    )
    at = app[CONFIG].alerts.digest_at
    if at:
        hour, minute = (int(part) for part in at.split(":"))
        scheduler.add_job(
            send_digest,
            "cron",
            hour=hour,
            minute=minute,
            args=[app],
            id="digest",
            coalesce=True,
            misfire_grace_time=3600,
        )


async def check_alerts(app: web.Application) -> int:
    try:
        if not await app[STORAGE].try_leadership():
            return 0
        alerts = app[ALERTS]
        return await alerts.failures.run() + await alerts.watch.run()
    except StorageUnavailable as exc:
        log.warning("alerts: check postponed, storage unavailable: %s", exc)
        return 0


async def send_digest(app: web.Application) -> int:
    try:
        if not await app[STORAGE].try_leadership():
            return 0
        config, now = app[CONFIG], app[CLOCK].now()
        health = getattr(app[SENDERS].get("sms"), "health", {}) or {}
        text = await digest_text(
            app[STORAGE], now, config, {name: state.balance for name, state in health.items()}
        )
        subject = alert_text(
            "digest.subject",
            config.service.language,
            day=now.astimezone(config.service.tz).strftime("%Y-%m-%d"),
        )
        return await app[ALERTS].notifier.notify("digest", subject, text)
    except StorageUnavailable as exc:
        log.warning("alerts: digest not sent, storage unavailable: %s", exc)
        return 0
