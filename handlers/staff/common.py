"""What every staff router shares: the user's language, answering (long texts split under
4096 characters; a button press edits its own message), the formatting of journal rows and
stop-list entries, and the author recorded for a change."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from markupsafe import escape

from bot.core.config import Config
from bot.core.telegram_text import split_message
from bot.core.texts import language_of
from handlers.filters import IsStaff, StaffMember
from storage.models import JournalRow, StopEntry


def staff_router(name: str) -> Router:
    """A router whose messages and button presses pass only for staff."""
    router = Router(name=name)
    router.message.filter(IsStaff())
    router.callback_query.filter(IsStaff())
    return router


def lang_of(event: Message | CallbackQuery) -> str:
    return language_of(event.from_user.language_code if event.from_user else None)


def author_of(staff: StaffMember) -> str:
    return staff.staff_id or f"telegram:{staff.user_id}"


def fit(text: str, limit: int = 3900) -> str:
    """A card's text within one message: the first part, tags kept balanced, and "…"."""
    parts = split_message(text, limit)
    return parts[0] + ("\n…" if len(parts) > 1 else "") if parts else text


async def answer_long(message: Message, text: str) -> None:
    for part in split_message(text):
        await message.answer(part)


async def show(
    event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """A card: a button press edits the message it came from, a typed message gets a new
    one. Returns the message shown (None when an edit changed nothing)."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        message = event.message
        if isinstance(message, Message):
            try:
                edited = await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest as exc:  # pressed twice: "message is not modified"
                if "not modified" not in str(exc):
                    raise
                return message
            return edited if isinstance(edited, Message) else message
        return None
    return await event.answer(text, reply_markup=markup)


def local(moment: datetime | None, config: Config) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(config.service.tz).strftime("%d.%m %H:%M")


def short(value: object, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def row_line(row: JournalRow, config: Config) -> str:
    """``#12 25.11 10:00 sent telegram Иван Петров order_booked — error`` (escaped HTML)."""
    moment = row.sent_at or row.failed_at or row.due_at or row.created_at
    who = row.recipient_name or row.address or row.recipient_id or row.recipient_role
    line = (
        f"<b>#{row.id}</b> {local(moment, config)} {escape(row.status)} "
        f"{escape(row.channel)} {escape(who or '—')} {escape(row.event_type)}"
    )
    problem = row.error or (
        row.reason if row.status in ("skipped", "stopped", "cancelled") else None
    )
    if problem:
        line += f" — {escape(short(problem))}"
    return line


def row_full(row: JournalRow) -> str:
    lines = []
    for name, value in row.public().items():
        if name == "text" or value in (None, ""):
            continue
        lines.append(f"<b>{escape(name)}</b>: {escape(str(value))}")
    if row.text:
        lines.append(f"<b>text</b>:\n<pre>{escape(row.text)}</pre>")
    return "\n".join(lines)


def stop_line(entry: StopEntry, config: Config) -> str:
    parts = [
        f"<b>#{entry.id}</b> {escape(entry.who_kind)}:{escape(entry.who)}",
        escape(entry.event_type),
        escape(entry.channel),
    ]
    if entry.reason:
        parts.append(escape(entry.reason))
    if entry.author:
        parts.append(escape(entry.author))
    parts.append(local(entry.created_at, config))
    return " · ".join(str(p) for p in parts)
