"""Delivery receipts in the running service: the callback secrets and addresses of the
portals, and the receipt poller as a periodic job (bot/services/receipts.py has the logic,
bot/http/receipts.py the callback endpoint)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler

from bot.core.config import parse_duration
from bot.core.sending import SendError
from bot.keys import CLOCK, CONFIG, METRICS, RECEIPTS, SCHEDULER_HOOKS, SENDERS, STORAGE
from bot.services.receipts import ReceiptBook, ReceiptPoller, callback_secrets, callback_url
from senders.email_bounces import BounceMailbox, parse_dsn
from senders.sms.portal import Portal
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.receipts")


def sms_portals(app: web.Application) -> dict[str, Portal]:
    return dict(getattr(app[SENDERS].get("sms"), "portals", {}) or {})


async def receipts_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the channels, before the scheduler: callback secrets loaded (made on first
    start), SMS Aero and Devino told their callback address, the poller registered."""
    config = app[CONFIG]
    portals = sms_portals(app)
    book = ReceiptBook(app[STORAGE], app[CLOCK], app[METRICS])
    book.portals = {name: portal for name, portal in portals.items() if portal.has_callback}
    if book.portals:
        book.secrets = await callback_secrets(app[STORAGE], list(book.portals))
    if config.receipts.public_url:
        for name, portal in book.portals.items():
            portal.callback_url = callback_url(config.receipts.public_url, name, book.secrets[name])
    app[RECEIPTS] = book
    modems = app[SENDERS].get("modem")
    if modems is not None and hasattr(modems, "on_receipts"):  # the modems' status reports
        modems.on_receipts(book.apply)
    poller = ReceiptPoller(book, portals, config.receipts)
    if any(portal.has_status for portal in portals.values()):
        app[SCHEDULER_HOOKS].append(lambda app, scheduler: add_receipt_jobs(app, scheduler, poller))
    yield


def add_receipt_jobs(app: web.Application, scheduler: BaseScheduler, poller: ReceiptPoller) -> None:
    every = parse_duration(app[CONFIG].receipts.poll_every).total_seconds()
    scheduler.add_job(
        poll_receipts,
        "interval",
        seconds=max(1.0, every),
        args=[app, poller],
        id="receipts",
        coalesce=True,
        max_instances=1,
    )


def add_bounce_jobs(
    app: web.Application, scheduler: BaseScheduler, mailboxes: list[BounceMailbox]
) -> None:
    for mailbox in mailboxes:
        every = parse_duration(mailbox.config.every).total_seconds()
        scheduler.add_job(
            read_bounces,
            "interval",
            seconds=max(5.0, every),
            args=[app, mailbox],
            id=f"bounces-{mailbox.account}",
            coalesce=True,
            max_instances=1,
        )


async def read_bounces(app: web.Application, mailbox: BounceMailbox) -> int:
    """The periodic job: DSN bounces of one e-mail account become receipts (leader only)."""
    try:
        if not await app[STORAGE].try_leadership():
            return 0
        try:
            raws = await mailbox.fetch()
        except SendError as exc:
            log.warning("receipts: %s", exc)
            return 0
        reports = [report for raw in raws for report in parse_dsn(raw)]
        await app[RECEIPTS].apply(mailbox.account, reports)
        return len(reports)
    except StorageUnavailable as exc:
        log.warning("receipts: bounces postponed, storage unavailable: %s", exc)
        return 0


async def poll_receipts(app: web.Application, poller: Any) -> int:
    """The periodic job: only the leader polls."""
    try:
        if not await app[STORAGE].try_leadership():
            return 0
        return int(await poller.run())
    except StorageUnavailable as exc:
        log.warning("receipts: poll postponed, storage unavailable: %s", exc)
        return 0
