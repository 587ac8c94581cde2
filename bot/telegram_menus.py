"""The bot's command menus: customers' in the default scope, staff's in each admin's chat."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault

from bot.core.config import Config
from handlers.menu import customer_menu, staff_menu

log = logging.getLogger("vestnik.telegram")


async def set_menus(bot: Bot, config: Config) -> None:
    """Customers' menu in the default scope (Russian, and English for English clients); the
    staff menu in each admin's chat. Staff linked by phone get theirs when they register."""
    default = config.service.language
    calls: list[tuple[list[Any], Any, str | None]] = [
        (customer_menu(default), BotCommandScopeDefault(), None),
        (customer_menu("en"), BotCommandScopeDefault(), "en"),
    ]
    for admin in config.telegram.admins:
        calls.append((staff_menu(default), BotCommandScopeChat(chat_id=admin), None))
        calls.append((staff_menu("en"), BotCommandScopeChat(chat_id=admin), "en"))
    for commands, scope, language in calls:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramAPIError as exc:  # e.g. an admin who never opened the bot
            log.warning("set_my_commands(%s): %s", scope, exc)
