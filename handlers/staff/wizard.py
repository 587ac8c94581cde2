"""The rule wizard's conversation (``/rules new``, ``/rules edit``, ``/rules copy``, and the
button under ``/templates``): a card per step driven by buttons, typed answers where a value
must be typed, a summary card, and Save through the same validation as ``rules import``. The
dialogue's state is aiogram FSM state, kept in the database (bot/telegram_fsm.py)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.config import Config
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.pipeline.templates import Templates
from bot.services import rules_admin
from handlers.filters import StaffMember
from handlers.staff.callbacks import RulesCb, WizardCb
from handlers.staff.common import author_of, lang_of, show, staff_router
from handlers.staff.wizard_draft import STEP_OF_KEY, TYPING, RuleWizard, default_name
from handlers.staff.wizard_steps import PRESSES
from handlers.staff.wizard_summary import card, summary_lines
from handlers.staff.wizard_typed import TYPED
from storage.base import Storage

log = logging.getLogger("vestnik.bot.wizard")
TYPING_BY_STATE = {state.state: name for name, state in TYPING.items()}


async def start(
    event: Message | CallbackQuery,
    state: FSMContext,
    *,
    draft: dict[str, Any],
    rule_id: int | None,
    step: str,
    templates: Templates,
    config: Config,
) -> None:
    """Open the wizard on ``step`` (``summary`` for an existing rule or a copy)."""
    data: dict[str, Any] = {
        "draft": draft,
        "rule_id": rule_id,
        "step": step,
        "review": step == "summary",
        "errors": [],
        "filter": {},
        "picking": False,
        "group": "",
    }
    await state.set_state(RuleWizard.choosing)
    await state.set_data(data)
    text, markup = card(data, templates, config, lang_of(event))
    await show(event, text, markup)


def prompt_markup(lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("wizard.back_to_card", lang), callback_data=WizardCb(action="card"))
    return kb.as_markup()


async def pressed(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    templates: Templates,
    config: Config,
    storage: Storage,
    clock: Clock,
    staff: StaffMember,
) -> None:
    lang = lang_of(query)
    data = await state.get_data()
    if "draft" not in data:  # finished, cancelled, or expired
        await query.answer(t("wizard.expired", lang), show_alert=True)
        return
    action, value = callback_data.action, callback_data.value
    if action == "cancel":
        await state.clear()
        await show(query, t("wizard.cancelled", lang))
        return
    if action == "save":
        await save(query, state, data, templates, config, storage, clock, staff)
        return
    if action == "type":
        await ask_to_type(query, state, data, value, lang)
        return
    press = PRESSES.get(action)
    if press is None:
        await query.answer()
        return
    try:
        expect = press(data, value, config)
    except ValueError as exc:  # a malformed button value: nothing changes
        log.warning("wizard press %s %r: %s", action, value, exc)
        expect = None
    await state.set_data(data)
    if expect:
        await ask_to_type(query, state, data, expect, lang)
        return
    await state.set_state(RuleWizard.choosing)
    text, markup = card(data, templates, config, lang)
    await show(query, text, markup)


async def ask_to_type(
    query: CallbackQuery, state: FSMContext, data: dict[str, Any], expect: str, lang: str
) -> None:
    if expect not in TYPING:
        await query.answer()
        return
    await state.set_state(TYPING[expect])
    pending = data.get("filter") or {}
    await show(
        query,
        t(
            f"wizard.prompt.{expect}",
            lang,
            path=pending.get("path", ""),
            op=t(f"wizard.op.{pending['op']}", lang) if pending.get("op") else "",
        ),
        prompt_markup(lang),
    )


async def typed(message: Message, state: FSMContext, templates: Templates, config: Config) -> None:
    lang = lang_of(message)
    data = await state.get_data()
    expect = TYPING_BY_STATE.get(await state.get_state() or "")
    if "draft" not in data or expect is None:
        await state.clear()
        await message.answer(t("wizard.expired", lang))
        return
    problems = TYPED[expect](data, message.text or "", templates, config)
    data["errors"] = problems
    await state.set_data(data)
    if not problems or expect != "value":  # a bad filter value is typed again
        await state.set_state(RuleWizard.choosing)
    text, markup = card(data, templates, config, lang)
    await message.answer(text, reply_markup=markup)


async def save(
    query: CallbackQuery,
    state: FSMContext,
    data: dict[str, Any],
    templates: Templates,
    config: Config,
    storage: Storage,
    clock: Clock,
    staff: StaffMember,
) -> None:
    lang = lang_of(query)
    if not rules_admin.may_change_rules(config, staff.user_id):
        await query.answer(t("rules.editors_only", lang), show_alert=True)
        return
    draft = dict(data["draft"])
    draft.setdefault("name", default_name(draft, lang))
    try:
        saved = await rules_admin.save(
            storage, draft, rule_id=data.get("rule_id"), author=author_of(staff), now=clock.now()
        )
    except rules_admin.RuleSaveError as exc:
        first = STEP_OF_KEY.get(exc.problems[0][0].split(".")[0], "summary")
        data["step"], data["review"] = first, True
        data["errors"] = [f"{key}: {message}" for key, message in exc.problems]
        await state.set_data(data)
        text, markup = card(data, templates, config, lang)
        await show(query, text, markup)
        return
    await state.clear()
    log.info("rule #%s %r saved in the chat by %s", saved.id, saved.name, author_of(staff))
    kb = InlineKeyboardBuilder()
    kb.button(text=t("rules.open", lang), callback_data=RulesCb(action="open", rule=saved.id or 0))
    kb.button(text=t("rules.test", lang), callback_data=RulesCb(action="test", rule=saved.id or 0))
    lines = [
        line for _, line in summary_lines({**saved.definition, "blocked": saved.blocked}, lang)
    ]
    await show(
        query,
        t("wizard.saved", lang, id=saved.id, name=saved.name) + "\n\n" + "\n".join(lines),
        kb.as_markup(),
    )


def build_router() -> Router:
    router = staff_router("staff.wizard")
    router.callback_query.register(pressed, WizardCb.filter())
    router.message.register(typed, StateFilter(*TYPING.values()), F.text, ~F.text.startswith("/"))
    return router
