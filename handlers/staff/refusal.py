"""Non-staff who try a staff command get a polite refusal and nothing else."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.core.texts import t
from handlers.menu import STAFF_COMMANDS
from handlers.staff.callbacks import JournalCb, RulesCb, StopCb, TemplatesCb, WizardCb
from handlers.staff.common import lang_of


async def refuse(message: Message) -> None:
    await message.answer(t("staff.refused", lang_of(message)))


async def refuse_press(query: CallbackQuery) -> None:
    """A staff button pressed by someone no longer (or never) staff."""
    await query.answer(t("staff.refused", lang_of(query)), show_alert=True)


def build_router() -> Router:
    router = Router(name="staff.refusal")
    router.message.register(refuse, Command(*STAFF_COMMANDS))
    for data in (JournalCb, StopCb, RulesCb, WizardCb, TemplatesCb):
        router.callback_query.register(refuse_press, data.filter())
    return router
