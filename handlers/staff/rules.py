"""``/rules``: the list with a button per rule; a rule's card (its settings, who changed it
when) with Block/Unblock, Edit, Copy, Test and Delete (after a confirmation); the typed forms
``/rules show|block|unblock|edit|copy|delete|test ID`` and ``/rules new``; a ``.toml``
document imports rules. Changing rules is for ``telegram.admins`` and
``telegram.rule_editors``; every staff member may look and test."""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from markupsafe import escape

from bot.core.config import Config
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.pipeline.rule_file import RuleFileError, export_rules_toml
from bot.pipeline.templates import Templates
from bot.services import rule_preview, rules_admin
from handlers.filters import StaffMember
from handlers.staff import wizard
from handlers.staff.callbacks import RulesCb
from handlers.staff.common import answer_long, author_of, fit, lang_of, local, show, staff_router
from handlers.staff.wizard_cards import preview_block
from storage.base import Storage
from storage.models import StoredRule

log = logging.getLogger("vestnik.bot.rules")
MAX_RULES_FILE = 256 * 1024
CHANGING = {"new", "edit", "copy", "delete", "block", "unblock", "toggle", "delete_ok"}
ACTIONS = {"show", "block", "unblock", "edit", "copy", "delete", "test"}


def rule_line(rule: StoredRule) -> str:
    channels = ", ".join(rule.definition.get("channels", []))
    mark = " ⛔" if rule.blocked else ""
    return (
        f"<b>#{rule.id}</b> {escape(rule.name)} — {escape(rule.event)} → {escape(channels)}{mark}"
    )


async def list_card(storage: Storage, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    stored = await rules_admin.listing(storage)
    if not stored:
        return t("rules.empty", lang), None
    kb = InlineKeyboardBuilder()
    for rule in stored[:60]:
        kb.button(
            text=f"#{rule.id} {rule.name}"[:40] + (" ⛔" if rule.blocked else ""),
            callback_data=RulesCb(action="open", rule=rule.id or 0),
        )
    kb.adjust(2)
    return "\n".join([t("rules.header", lang)] + [rule_line(r) for r in stored]), kb.as_markup()


async def rule_text(storage: Storage, rule: StoredRule, config: Config, lang: str) -> str:
    changes = await rules_admin.history(storage, rule.id or 0)
    lines = [f"<b>#{rule.id}</b>\n<pre>{escape(export_rules_toml([rule]))}</pre>"]
    if changes:
        lines.append(t("rules.history", lang))
        lines += [
            t(
                "rules.change",
                lang,
                at=local(c.at, config),
                author=c.author,
                action=t(f"rules.action.{c.action}", lang),
            )
            for c in changes
        ]
    return "\n".join(lines)


def rule_keyboard(rule: StoredRule, lang: str, confirm: bool = False) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    rid = rule.id or 0
    if confirm:
        kb.button(
            text=t("rules.delete_yes", lang), callback_data=RulesCb(action="delete_ok", rule=rid)
        )
        kb.button(text=t("browse.cancel", lang), callback_data=RulesCb(action="open", rule=rid))
        return kb.as_markup()
    kb.button(
        text=t("rules.unblock_button" if rule.blocked else "rules.block_button", lang),
        callback_data=RulesCb(action="toggle", rule=rid),
    )
    for action in ("edit", "copy", "test", "delete"):
        kb.button(text=t(f"rules.{action}", lang), callback_data=RulesCb(action=action, rule=rid))
    kb.button(text=t("browse.back", lang), callback_data=RulesCb(action="list"))
    kb.adjust(1, 2, 2, 1)
    return kb.as_markup()


async def rules(
    message: Message,
    command: CommandObject,
    storage: Storage,
    config: Config,
    clock: Clock,
    templates: Templates,
    state: FSMContext,
    staff: StaffMember,
) -> None:
    lang = lang_of(message)
    args = (command.args or "").split(maxsplit=1)
    if not args:
        text, markup = await list_card(storage, lang)
        await answer_long(message, text) if markup is None else await message.answer(
            fit(text), reply_markup=markup
        )
        return
    action = args[0].lower()
    if action == "new" and len(args) == 1:
        if not rules_admin.may_change_rules(config, staff.user_id):
            await message.answer(t("rules.editors_only", lang))
            return
        await wizard.start(
            message, state, draft={}, rule_id=None, step="event", templates=templates, config=config
        )
        return
    if action not in ACTIONS or len(args) != 2:
        await message.answer(t("rules.usage", lang))
        return
    ref_text = args[1].strip().lstrip("#")
    rule = await rules_admin.get(storage, int(ref_text) if ref_text.isdigit() else ref_text)
    if rule is None or rule.id is None:
        await message.answer(t("rules.not_found", lang, ref=args[1]))
        return
    await act(message, action, rule, storage, config, clock, templates, state, staff)


async def act(
    event: Message | CallbackQuery,
    action: str,
    rule: StoredRule,
    storage: Storage,
    config: Config,
    clock: Clock,
    templates: Templates,
    state: FSMContext,
    staff: StaffMember,
) -> None:
    """One action on one rule, typed or pressed."""
    lang = lang_of(event)
    if action in CHANGING and not rules_admin.may_change_rules(config, staff.user_id):
        await show(event, t("rules.editors_only", lang))
        return
    rid, author, now = rule.id or 0, author_of(staff), clock.now()
    if action in ("block", "unblock", "toggle"):
        blocked = not rule.blocked if action == "toggle" else action == "block"
        changed = await rules_admin.set_blocked(storage, rid, blocked, author=author, now=now)
        notice = t("rules.blocked" if blocked else "rules.unblocked", lang, name=rule.name)
        if isinstance(event, Message) or changed is None:
            await show(event, notice)
            return
        rule, action = changed, "open"
    if action in ("edit", "copy"):
        draft = rules_admin.definition_of(rule)
        if action == "copy":
            draft["name"] = await rules_admin.copy_name(storage, rule.name)
        await wizard.start(
            event,
            state,
            draft=draft,
            rule_id=rid if action == "edit" else None,
            step="summary",
            templates=templates,
            config=config,
        )
    elif action == "test":
        await test_rule(event, rule, storage, config, templates)
    elif action == "delete_ok":
        gone = await rules_admin.delete(storage, rid, author=author, now=now)
        await show(
            event, t("rules.deleted" if gone else "rules.not_found", lang, name=rule.name, ref=rid)
        )
    elif action in ("show", "open", "delete"):
        text = await rule_text(storage, rule, config, lang)
        if action == "delete":
            text = t("rules.delete_ask", lang, name=rule.name) + "\n\n" + text
        if isinstance(event, Message) and action == "show":
            await answer_long(event, text)
        else:
            await show(event, fit(text), rule_keyboard(rule, lang, confirm=action == "delete"))


async def test_rule(
    event: Message | CallbackQuery,
    rule: StoredRule,
    storage: Storage,
    config: Config,
    templates: Templates,
) -> None:
    """The rule's messages for the newest real event of its type (else a sample), sent to
    this staff member only."""
    lang = lang_of(event)
    message = event if isinstance(event, Message) else event.message
    if isinstance(event, CallbackQuery):
        await event.answer()
    if not isinstance(message, Message):
        return
    payload, event_id = await rule_preview.event_for_test(storage, rule.event)
    source = t("rules.test_real", lang, id=event_id) if event_id else t("rules.test_sample", lang)
    await message.answer(t("rules.test_header", lang, name=rule.name, source=source))
    for channel in rule.definition.get("channels", []):
        shown = rule_preview.render(templates, config, rule.definition, channel, payload, lang)
        await answer_long(message, preview_block(shown, lang))


async def pressed(
    query: CallbackQuery,
    callback_data: RulesCb,
    storage: Storage,
    config: Config,
    clock: Clock,
    templates: Templates,
    state: FSMContext,
    staff: StaffMember,
) -> None:
    lang = lang_of(query)
    if callback_data.action == "list":
        text, markup = await list_card(storage, lang)
        await show(query, fit(text), markup)
        return
    rule = await rules_admin.get(storage, callback_data.rule)
    if rule is None:
        await query.answer(t("rules.not_found", lang, ref=callback_data.rule), show_alert=True)
        return
    await act(query, callback_data.action, rule, storage, config, clock, templates, state, staff)


async def rules_file(
    message: Message, bot: Bot, storage: Storage, config: Config, clock: Clock, staff: StaffMember
) -> None:
    lang = lang_of(message)
    document = message.document
    assert document is not None
    if not rules_admin.may_change_rules(config, staff.user_id):
        await message.answer(t("rules.editors_only", lang))
        return
    name = (document.file_name or "").lower()
    if not name.endswith(".toml") or (document.file_size or 0) > MAX_RULES_FILE:
        await message.answer(t("rules.not_toml", lang, limit=MAX_RULES_FILE // 1024))
        return
    buffer = io.BytesIO()
    await bot.download(document, destination=buffer)
    try:
        text = buffer.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        await message.answer(t("rules.not_toml", lang, limit=MAX_RULES_FILE // 1024))
        return
    try:
        created, updated = await rules_admin.import_text(
            storage, text, author=author_of(staff), now=clock.now()
        )
    except RuleFileError as exc:
        errors = "\n".join(f"• {line}" for line in exc.errors)
        await answer_long(message, t("rules.import_errors", lang, errors=errors))
        return
    log.info(
        "rules imported from Telegram by %s: %d created, %d updated",
        author_of(staff),
        created,
        updated,
    )
    await message.answer(t("rules.imported", lang, created=created, updated=updated))


def build_router() -> Router:
    router = staff_router("staff.rules")
    router.message.register(rules, Command("rules"))
    router.message.register(rules_file, F.document)
    router.callback_query.register(pressed, RulesCb.filter())
    return router
