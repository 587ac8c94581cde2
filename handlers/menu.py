"""The command menus Telegram shows (``set_my_commands``): customers see the default list,
each staff chat gets the full list in its own scope. Descriptions are ``menu.*`` in
bot/texts.py."""

from __future__ import annotations

from aiogram.types import BotCommand

from bot.core.texts import t

CUSTOMER_COMMANDS = ("start", "orders", "stop", "help")
CONVERSATION_STAFF_COMMANDS = ("dialog",)  # handled in handlers/conversations.py
STAFF_COMMANDS = (
    "journal",
    "resend",
    "stoplist",
    "rules",
    "templates",
    "test",
    "inbox",
    "status",
    "preview",
    "web",
)


def customer_menu(lang: str) -> list[BotCommand]:
    return [BotCommand(command=c, description=t(f"menu.{c}", lang)) for c in CUSTOMER_COMMANDS]


def staff_menu(lang: str) -> list[BotCommand]:
    return [
        BotCommand(command=c, description=t(f"menu.{c}", lang))
        for c in (*STAFF_COMMANDS, *CONVERSATION_STAFF_COMMANDS, *CUSTOMER_COMMANDS)
    ]
