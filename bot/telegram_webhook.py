"""Webhook mode (``telegram.mode = "webhook"``): the secret and the ``setWebhook`` call.

Updates then arrive on ``telegram.webhook_path`` (the route is added by
``bot.telegram_runtime.add_telegram_routes``), checked against the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from aiogram import Bot
from aiogram import Dispatcher as AiogramDispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler

from bot.core.config import Config

log = logging.getLogger("vestnik.telegram")


def webhook_secret(config: Config) -> str:
    """``telegram.webhook_secret``, or one derived from the token (1-256 chars of A-Za-z0-9_-)."""
    tg = config.telegram
    if tg.webhook_secret is not None and tg.webhook_secret.get_secret_value():
        return tg.webhook_secret.get_secret_value()
    token = tg.token.get_secret_value() if tg.token else ""
    return hmac.new(token.encode(), b"vestnik webhook secret", hashlib.sha256).hexdigest()


def webhook_handler(dp: AiogramDispatcher, bot: Bot, config: Config) -> SimpleRequestHandler:
    """What the webhook route hands each update to (it checks the secret)."""
    return SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=webhook_secret(config))


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
