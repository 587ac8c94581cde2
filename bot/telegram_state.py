"""What the Telegram side leaves on the app, and the service without a bot.

``app[TELEGRAM]`` (:class:`TelegramRuntime`) is what ``bot/telegram_runtime.py`` built, read
by the inbound SMS context and by tests. :func:`without_bot` is the whole Telegram side when
``telegram.enabled`` is false: the ``internal`` channel (staff inbox) and the deep-link helper,
nothing more. This module does not import aiogram at run time — importing it costs seconds,
and a service that sends only e-mail or SMS should not pay them at every start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.config import Config
from bot.core.timeutil import Clock, SystemClock
from bot.keys import CLOCK, CONFIG, SENDERS, STORAGE, TEMPLATES
from bot.pipeline.deep_links import TelegramLinkHelper, link_secret
from bot.pipeline.inbox import StorageInbox
from bot.pipeline.templates import Templates
from senders.internal import InternalSender

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram import Dispatcher as AiogramDispatcher
    from aiogram.types import User
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    from senders.telegram import TelegramSender


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


def start_runtime(app: web.Application) -> tuple[TelegramRuntime, TelegramLinkHelper]:
    """A new ``app[TELEGRAM]`` with the deep-link helper (``""`` links until the bot is known)."""
    config: Config = app[CONFIG]
    links = _link_helper(config, app.get(CLOCK) or SystemClock(), app.get(TEMPLATES))
    runtime = TelegramRuntime(links=links)
    app[TELEGRAM] = runtime
    return runtime, links


def _link_helper(config: Config, clock: Clock, templates: Templates | None) -> TelegramLinkHelper:
    """Deep links for customers; ``{{ telegram_link(customer) }}`` ("" until the bot is known)."""
    links = TelegramLinkHelper(link_secret(config.telegram), config.telegram.link_ttl_days, clock)
    if templates is not None:
        templates.register_function("telegram_link", links)
    return links


async def without_bot(app: web.Application) -> AsyncIterator[None]:
    """``telegram.enabled = false``: only the ``internal`` channel, kept in the staff inbox."""
    runtime, _ = start_runtime(app)
    senders: dict[str, Any] = app[SENDERS]
    clock: Clock = app.get(CLOCK) or SystemClock()
    runtime.internal = senders["internal"] = InternalSender(StorageInbox(app[STORAGE], clock))
    try:
        yield
    finally:
        senders.pop("internal", None)
