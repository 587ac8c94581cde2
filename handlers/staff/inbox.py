"""``/inbox``: the staff member's own messages of the ``internal`` channel, newest first;
the unread ones are marked read once shown."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from markupsafe import escape

from bot.core.config import Config
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.services import staff_inbox
from bot.services.journal import LATEST
from handlers.filters import StaffMember
from handlers.staff.common import answer_long, lang_of, local, staff_router
from storage.base import Storage


async def inbox(
    message: Message, storage: Storage, config: Config, clock: Clock, staff: StaffMember
) -> None:
    lang = lang_of(message)
    if staff.staff_id is None:
        await message.answer(t("inbox.no_staff", lang))
        return
    items = await staff_inbox.latest(storage, staff.staff_id, LATEST)
    if not items:
        await message.answer(t("inbox.empty", lang))
        return
    lines = [t("inbox.header", lang)]
    for item in items:
        new = "🆕 " if item.read_at is None else ""
        subject = f"<b>{escape(item.subject)}</b>\n" if item.subject else ""
        lines.append(f"\n{new}{local(item.created_at, config)}\n{subject}{item.text}")
    await answer_long(message, "\n".join(lines))
    unread = [item.id for item in items if item.read_at is None and item.id is not None]
    await staff_inbox.mark_read(storage, unread, clock.now())


def build_router() -> Router:
    router = staff_router("staff.inbox")
    router.message.register(inbox, Command("inbox"))
    return router
