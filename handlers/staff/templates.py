"""``/templates [type]``: the event types, or one type's default texts per channel and the
variables with examples from its sample event, with a button that starts a rule for it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from markupsafe import escape

from bot.core.catalog import CATALOG
from bot.core.config import Config
from bot.core.texts import t
from bot.pipeline.templates import Templates
from bot.services import rules_admin, templates_help
from handlers.filters import StaffMember
from handlers.staff import wizard
from handlers.staff.callbacks import TemplatesCb
from handlers.staff.common import answer_long, lang_of, short, staff_router


def type_list(lang: str) -> str:
    lines = [t("templates.types", lang)]
    for name, entry in CATALOG.items():
        if templates_help.has_defaults(name):
            title = entry.title_ru if lang == "ru" else entry.title_en
            lines.append(f"<code>{escape(name)}</code> — {escape(title)}")
    return "\n".join(lines)


def type_text(event_type: str, lang: str) -> str:
    lines = [t("templates.header", lang, type=event_type)]
    for channel in templates_help.TEXT_CHANNELS:
        subject, body = templates_help.default_text(event_type, channel, lang)
        lines.append(f"\n<b>{escape(channel)}</b>")
        if subject:
            lines.append(f"<pre>subject = {escape(subject)}</pre>")
        lines.append(f"<pre>{escape(body)}</pre>")
    lines.append("\n" + t("templates.variables", lang))
    lines += [
        f"<code>{escape(name)}</code> → {escape(short(value, 60))}"
        for name, value in templates_help.variable_examples(event_type)
    ]
    lines += [
        f"<code>{escape(name)}</code> — {escape(meaning)}"
        for name, meaning in templates_help.variable_notes()
    ]
    return "\n".join(lines)


async def templates(message: Message, command: CommandObject) -> None:
    lang = lang_of(message)
    event_type = (command.args or "").strip()
    if not event_type:
        await answer_long(message, type_list(lang))
        return
    if not templates_help.has_defaults(event_type):
        await message.answer(t("templates.unknown", lang, type=event_type))
        return
    await answer_long(message, type_text(event_type, lang))
    kb = InlineKeyboardBuilder()
    kb.button(
        text=t("templates.new_rule", lang),
        callback_data=TemplatesCb(action="new", event=event_type),
    )
    await message.answer(t("templates.start", lang, type=event_type), reply_markup=kb.as_markup())


async def new_rule(
    query: CallbackQuery,
    callback_data: TemplatesCb,
    state: FSMContext,
    templates: Templates,
    config: Config,
    staff: StaffMember,
) -> None:
    lang = lang_of(query)
    if not rules_admin.may_change_rules(config, staff.user_id):
        await query.answer(t("rules.editors_only", lang), show_alert=True)
        return
    if not templates_help.has_defaults(callback_data.event):
        await query.answer(t("templates.unknown", lang, type=callback_data.event), show_alert=True)
        return
    await wizard.start(
        query,
        state,
        draft={"event": callback_data.event},
        rule_id=None,
        step="recipients",
        templates=templates,
        config=config,
    )


def build_router() -> Router:
    router = staff_router("staff.templates")
    router.message.register(templates, Command("templates"))
    router.callback_query.register(new_rule, TemplatesCb.filter())
    return router
