"""The aiogram Dispatcher: the routers from ``handlers/`` and the services as workflow data.

Every handler and filter may ask for ``storage``, ``config``, ``senders``, ``clock``,
``link_secret``, ``control`` and ``templates``; the dialogue state lives in the database
(bot/telegram_fsm.py); an outer middleware tracks the updates being handled for shutdown.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiogram import Dispatcher as AiogramDispatcher
from aiohttp import web

from bot.core.config import Config
from bot.core.timeutil import Clock
from bot.keys import DISPATCHER
from bot.pipeline.deep_links import link_secret
from bot.pipeline.templates import Templates
from bot.services.control import DispatchControl
from bot.telegram_fsm import DatabaseFsmStorage
from bot.telegram_inflight import track_updates
from handlers import build_routers
from storage.base import Storage


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
        _track_outermost(dp, inflight)
    return dp


def _track_outermost(dp: AiogramDispatcher, inflight: set[asyncio.Task[Any]]) -> None:
    # outermost, so the error handlers (aiogram's ErrorsMiddleware) run inside it too
    manager = dp.update.outer_middleware
    existing = list(manager)
    for middleware in existing:
        manager.unregister(middleware)
    manager.register(track_updates(inflight))
    for middleware in existing:
        manager.register(middleware)


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
