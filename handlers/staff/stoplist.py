"""``/stoplist``: pages of entries with a remove button per entry (after a confirmation);
``/stoplist add WHO [type] [channel] [reason]`` and ``/stoplist remove ID`` typed."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.channels import CHANNELS
from bot.core.config import Config
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.services import stoplist as stop_service
from bot.services.stoplist import StopListError
from bot.services.who import WhoError
from handlers.filters import StaffMember
from handlers.staff.callbacks import StopCb
from handlers.staff.common import author_of, lang_of, show, staff_router, stop_line
from storage.base import Storage


async def page_card(
    storage: Storage, config: Config, number: int, lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    entries, has_next = await stop_service.page(storage, number)
    if not entries and number == 0:
        return t("stoplist.empty", lang), None
    lines = [t("stoplist.header", lang)] + [stop_line(e, config) for e in entries]
    if number:
        lines[0] += " · " + t("browse.page", lang, page=number + 1)
    kb = InlineKeyboardBuilder()
    for entry in entries:
        kb.button(
            text=t("stoplist.remove_button", lang, id=entry.id),
            callback_data=StopCb(action="ask", page=number, entry=entry.id or 0),
        )
    kb.adjust(4)
    nav = InlineKeyboardBuilder()
    if number > 0:
        nav.button(
            text=t("browse.prev", lang), callback_data=StopCb(action="page", page=number - 1)
        )
    if has_next:
        nav.button(
            text=t("browse.next", lang), callback_data=StopCb(action="page", page=number + 1)
        )
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


async def stoplist(
    message: Message,
    command: CommandObject,
    storage: Storage,
    config: Config,
    clock: Clock,
    staff: StaffMember,
) -> None:
    lang = lang_of(message)
    args = (command.args or "").split()
    if not args:
        text, markup = await page_card(storage, config, 0, lang)
        await message.answer(text, reply_markup=markup)
        return
    action = args[0].lower()
    if action == "remove" and len(args) == 2 and args[1].lstrip("#").isdigit():
        entry_id = int(args[1].lstrip("#"))
        removed = await stop_service.remove(storage, entry_id)
        await message.answer(
            t("stoplist.removed" if removed else "stoplist.not_found", lang, id=entry_id)
        )
        return
    if action != "add" or len(args) < 2:
        await message.answer(t("stoplist.usage", lang))
        return
    try:
        entry = stop_service.new_entry(
            args[1],
            config.service.default_region,
            event_type=args[2] if len(args) > 2 else "*",
            channel=args[3] if len(args) > 3 else "*",
            reason=" ".join(args[4:]),
            author=author_of(staff),
            now=clock.now(),
        )
    except WhoError as exc:
        await message.answer(
            t(f"who.bad.{exc.problem}", lang, value=exc.value) + "\n" + t("stoplist.usage", lang)
        )
        return
    except StopListError as exc:
        await message.answer(
            t(f"stoplist.{exc.problem}", lang, value=exc.value, channels=", ".join(CHANNELS))
        )
        return
    saved = await stop_service.add(storage, entry)
    await message.answer(
        t(
            "stoplist.added",
            lang,
            id=saved.id,
            who=saved.key,
            event_type=saved.event_type,
            channel=saved.channel,
        )
    )


async def pressed(
    query: CallbackQuery, callback_data: StopCb, storage: Storage, config: Config
) -> None:
    lang = lang_of(query)
    cb = callback_data
    if cb.action == "ask":
        kb = InlineKeyboardBuilder()
        kb.button(
            text=t("stoplist.remove_yes", lang),
            callback_data=StopCb(action="remove", page=cb.page, entry=cb.entry),
        )
        kb.button(text=t("browse.cancel", lang), callback_data=StopCb(action="page", page=cb.page))
        await show(query, t("stoplist.remove_ask", lang, id=cb.entry), kb.as_markup())
        return
    notice = ""
    if cb.action == "remove":
        removed = await stop_service.remove(storage, cb.entry)
        notice = t("stoplist.removed" if removed else "stoplist.not_found", lang, id=cb.entry)
    text, markup = await page_card(storage, config, cb.page, lang)
    await show(query, (notice + "\n\n" if notice else "") + text, markup)


def build_router() -> Router:
    router = staff_router("staff.stoplist")
    router.message.register(stoplist, Command("stoplist"))
    router.callback_query.register(pressed, StopCb.filter(F.action.in_({"page", "ask", "remove"})))
    return router
