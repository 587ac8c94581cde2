"""The typed keys of the aiohttp application: what the factory builds and who reads it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.sending import Sender
from bot.core.timeutil import Clock
from bot.pipeline.dispatcher import Dispatcher
from bot.pipeline.intake import Intake
from bot.pipeline.planner import Planner
from bot.pipeline.templates import Templates
from bot.services.receipts import ReceiptBook
from storage.base import Storage

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", Metrics)
SENDERS = web.AppKey("senders", dict[str, Sender])  # filled by senders_ctx
TEMPLATES = web.AppKey("templates", Templates)
PLANNER = web.AppKey("planner", Planner)
STORAGE = web.AppKey("storage", Storage)
HTTP = web.AppKey("http", aiohttp.ClientSession)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
INTAKE = web.AppKey("intake", Intake)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
CATCH_UP = web.AppKey("catch_up", asyncio.Task)
RECEIPTS = web.AppKey("receipts", ReceiptBook)  # delivery receipts (bot/receipts.py)
# the Telegram runtime's key is bot.telegram_runtime.TELEGRAM
# extra jobs tests or plugins add to the scheduler: callables (app, scheduler) -> None
SCHEDULER_HOOKS = web.AppKey("scheduler_hooks", list[Any])
