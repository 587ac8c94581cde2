"""``/journal`` and ``/resend``: the journal as a list to page through and filter by
pressing (failed, today, channel, status), a button per row that opens it in full, and from
there Resend and Stop this person, each after a confirmation. Typed queries (a phone, an
order number, a row id) keep working."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from markupsafe import Markup

from bot.core.channels import CHANNELS
from bot.core.config import Config
from bot.core.phones import normalize_phone
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.services import journal as journal_service
from bot.services import stoplist as stop_service
from bot.services.control import DispatchControl
from bot.services.journal import JournalView
from bot.services.resend import due_text, resend_row
from handlers.filters import StaffMember
from handlers.staff.callbacks import JournalCb
from handlers.staff.common import (
    answer_long,
    author_of,
    fit,
    lang_of,
    row_full,
    row_line,
    show,
    staff_router,
)
from storage.base import Storage
from storage.models import JournalRow, StopEntry

STATUSES = (
    "",
    "sent",
    "delivered",
    "failed",
    "undelivered",
    "pending",
    "scheduled",
    "stopped",
    "skipped",
    "cancelled",
)
CHANNEL_CYCLE = ("", *CHANNELS)


def _next(values: tuple[str, ...], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)] if current in values else ""


def _view_cb(view: JournalView, **change: object) -> str:
    fields = {
        "scope": view.scope,
        "channel": view.channel,
        "status": view.status,
        "page": view.page,
        **change,
    }
    return JournalCb(action="page", **fields).pack()


def view_keyboard(
    view: JournalView, rows: list[JournalRow], has_next: bool, lang: str
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for row in rows:
        kb.button(
            text=f"#{row.id}",
            callback_data=JournalCb(
                action="open",
                scope=view.scope,
                channel=view.channel,
                status=view.status,
                page=view.page,
                row=row.id or 0,
            ),
        )
    kb.adjust(5)
    nav = InlineKeyboardBuilder()
    if view.page > 0:
        nav.button(text=t("browse.prev", lang), callback_data=_view_cb(view, page=view.page - 1))
    if has_next:
        nav.button(text=t("browse.next", lang), callback_data=_view_cb(view, page=view.page + 1))
    kb.attach(nav)
    filters = InlineKeyboardBuilder()
    for scope in ("all", "failed", "today"):
        mark = "• " if view.scope == scope else ""
        filters.button(
            text=mark + t(f"journal.scope.{scope}", lang),
            callback_data=_view_cb(view, scope=scope, page=0),
        )
    filters.button(
        text=t("journal.channel", lang, value=view.channel or "*"),
        callback_data=_view_cb(view, channel=_next(CHANNEL_CYCLE, view.channel), page=0),
    )
    filters.button(
        text=t("journal.status", lang, value=view.status or "*"),
        callback_data=_view_cb(view, status=_next(STATUSES, view.status), page=0),
    )
    filters.adjust(3, 2)
    kb.attach(filters)
    return kb.as_markup()


async def view_text(
    view: JournalView, storage: Storage, config: Config, clock: Clock, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    rows, has_next = await journal_service.view_page(storage, view, config, clock)
    what = t(f"journal.what.{'latest' if view.scope == 'all' else view.scope}", lang)
    extra = [
        f"{name} {value}"
        for name, value in (("channel", view.channel), ("status", view.status))
        if value
    ]
    if extra:
        what += " · " + " · ".join(extra)
    if view.page:
        what += " · " + t("browse.page", lang, page=view.page + 1)
    if not rows:
        text = t("journal.empty", lang)
    else:
        lines = [t("journal.header", lang, what=Markup(what))]
        text = "\n".join(lines + [row_line(row, config) for row in rows])
    return text, view_keyboard(view, rows, has_next, lang)


async def journal(
    message: Message, command: CommandObject, storage: Storage, config: Config, clock: Clock
) -> None:
    lang = lang_of(message)
    arg = " ".join((command.args or "").split())
    if arg.lower() in ("", "failed", "today"):
        view = JournalView(scope=arg.lower() or "all")
        text, markup = await view_text(view, storage, config, clock, lang)
        await message.answer(text, reply_markup=markup)
        return
    if " " in arg and normalize_phone(arg, config.service.default_region) is None:
        await message.answer(t("journal.usage", lang))  # only a phone has spaces
        return
    query = await journal_service.journal_query(arg, storage, config, clock)
    if query.row_id is not None:
        row = await journal_service.get_row(storage, query.row_id)
        if row is not None:
            await answer_long(message, row_full(row))
            return
    rows = await journal_service.run_query(storage, query)
    if not rows:
        await message.answer(t("journal.empty", lang))
        return
    cap = journal_service.LIST_CAP
    what = t(f"journal.what.{query.title}", lang, value=query.value)
    lines = [t("journal.header", lang, what=Markup(what))]
    lines += [row_line(row, config) for row in rows[:cap]]
    if len(rows) > cap:
        lines.append(t("journal.more", lang, shown=cap))
    await answer_long(message, "\n".join(lines))


def row_keyboard(cb: JournalCb, lang: str, confirm: str = "") -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    base = cb.model_dump()
    if confirm:
        kb.button(
            text=t(f"journal.{confirm}.yes", lang),
            callback_data=JournalCb(**{**base, "action": f"{confirm}_ok"}),
        )
        kb.button(
            text=t("browse.cancel", lang), callback_data=JournalCb(**{**base, "action": "open"})
        )
    else:
        kb.button(
            text=t("journal.resend", lang), callback_data=JournalCb(**{**base, "action": "resend"})
        )
        kb.button(
            text=t("journal.stop", lang), callback_data=JournalCb(**{**base, "action": "stop"})
        )
    kb.button(text=t("browse.back", lang), callback_data=JournalCb(**{**base, "action": "page"}))
    kb.adjust(2, 1)
    return kb.as_markup()


async def pressed(
    query: CallbackQuery,
    callback_data: JournalCb,
    storage: Storage,
    config: Config,
    clock: Clock,
    control: DispatchControl,
    staff: StaffMember,
) -> None:
    lang = lang_of(query)
    cb = callback_data
    if cb.action == "page":
        view = JournalView(cb.scope, cb.channel, cb.status, cb.page)
        text, markup = await view_text(view, storage, config, clock, lang)
        await show(query, text, markup)
        return
    row = await journal_service.get_row(storage, cb.row)
    if row is None:
        await query.answer(t("journal.row_gone", lang, id=cb.row), show_alert=True)
        return
    notice = ""
    if cb.action == "resend_ok":  # confirmed: a scheduled row goes out now too
        notice = await resend_notice(cb.row, storage, clock, control, config, lang, force=True)
        row = await journal_service.get_row(storage, cb.row) or row
    elif cb.action == "stop_ok":
        notice = await stop_person(row, storage, clock, staff, lang)
    confirm = cb.action if cb.action in ("resend", "stop") else ""
    question = t(f"journal.{confirm}.ask", lang, id=row.id) + "\n\n" if confirm else ""
    text = question + (notice + "\n\n" if notice else "") + row_full(row)
    await show(query, fit(text), row_keyboard(cb, lang, confirm))


async def stop_person(
    row: JournalRow, storage: Storage, clock: Clock, staff: StaffMember, lang: str
) -> str:
    who = stop_service.person_of(row)
    if who is None:
        return t("journal.stop.nobody", lang)
    entry = StopEntry(
        who=who[1],
        who_kind=who[0],
        author=author_of(staff),
        reason=f"journal #{row.id}",
        created_at=clock.now(),
    )
    saved = await stop_service.add(storage, entry)
    return t(
        "stoplist.added",
        lang,
        id=saved.id,
        who=saved.key,
        event_type=saved.event_type,
        channel=saved.channel,
    )


async def resend(
    message: Message,
    command: CommandObject,
    storage: Storage,
    clock: Clock,
    control: DispatchControl,
    config: Config,
) -> None:
    """``/resend ID [now]``: a scheduled row is refused (with its due time) unless ``now``."""
    lang = lang_of(message)
    words = (command.args or "").split()
    arg = words[0].lstrip("#") if words else ""
    force = words[1:] == ["now"]
    if not arg.isdigit() or (len(words) > 1 and not force):
        await message.answer(t("resend.usage", lang))
        return
    await message.answer(
        await resend_notice(int(arg), storage, clock, control, config, lang, force=force)
    )


async def resend_notice(
    row_id: int,
    storage: Storage,
    clock: Clock,
    control: DispatchControl,
    config: Config,
    lang: str,
    *,
    force: bool,
) -> str:
    outcome = await resend_row(storage, row_id, clock.now(), force=force)
    row = outcome.row
    if outcome.status == "scheduled" and row is not None:
        return t("resend.scheduled", lang, id=row_id, due=due_text(row, config.service.tz))
    if not outcome.queued or row is None:
        return t("resend.not_found", lang, id=row_id)
    control.wake()
    return t("resend.done", lang, id=row.id, channel=row.channel, address=row.address or "—")


def build_router() -> Router:
    router = staff_router("staff.journal")
    router.message.register(journal, Command("journal"))
    router.message.register(resend, Command("resend"))
    router.callback_query.register(
        pressed,
        JournalCb.filter(F.action.in_({"page", "open", "resend", "resend_ok", "stop", "stop_ok"})),
    )
    return router
