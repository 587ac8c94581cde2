"""The rule wizard's summary card (every choice, an edit button per step, Save), and
:func:`card`, which builds whichever step the dialogue is on."""

from __future__ import annotations

from typing import Any

from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.config import Config
from bot.core.texts import t
from bot.pipeline.templates import Templates
from handlers.staff.common import fit
from handlers.staff.wizard_cards import (
    Card,
    cb,
    channels_card,
    chosen_providers,
    event_card,
    filters_card,
    filters_summary,
    header,
    nav,
    options_card,
    providers_card,
    recipients_card,
    template_card,
    timing_card,
    timing_summary,
    title_of,
    with_errors,
)
from handlers.staff.wizard_draft import PROVIDER_KEYS, default_name, steps_for


def summary_values(draft: dict[str, Any], lang: str) -> list[tuple[str, str, dict[str, str]]]:
    """(step, text key, values) of each summary line."""
    providers = [
        f"{c}: {', '.join(chosen_providers(draft, c))}"
        for c in PROVIDER_KEYS
        if chosen_providers(draft, c)
    ]
    own = draft.get("body") is not None or draft.get("subject") is not None
    yes, no = t("wizard.yes", lang), t("wizard.no", lang)
    event = str(draft.get("event", ""))
    return [
        ("options", "wizard.sum.name", {"value": draft.get("name") or default_name(draft, lang)}),
        ("event", "wizard.sum.event", {"value": f"{title_of(event, lang)} ({event or '—'})"}),
        (
            "recipients",
            "wizard.sum.recipients",
            {"value": ", ".join(draft.get("recipients", [])) or "—"},
        ),
        (
            "channels",
            "wizard.sum.channels",
            {
                "value": " → ".join(draft.get("channels", [])) or "—",
                "delivery": t(f"wizard.delivery.{draft.get('delivery', 'first')}", lang),
            },
        ),
        (
            "providers",
            "wizard.sum.providers",
            {"value": "; ".join(providers) or t("wizard.providers.any", lang)},
        ),
        ("timing", "wizard.sum.timing", {"value": timing_summary(draft, lang)}),
        ("filters", "wizard.sum.filters", {"value": "; ".join(filters_summary(draft)) or "—"}),
        (
            "template",
            "wizard.sum.template",
            {"value": t("wizard.template.own" if own else "wizard.template.kept", lang)},
        ),
        (
            "options",
            "wizard.sum.options",
            {
                "quiet": yes if draft.get("quiet_hours", True) else no,
                "blocked": yes if draft.get("blocked") else no,
            },
        ),
    ]


def summary_lines(draft: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(step, one line) for the summary card and the saved rule's card."""
    return [(step, t(key, lang, **values)) for step, key, values in summary_values(draft, lang)]


def summary_card(
    data: dict[str, Any], config: Config, lang: str
) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    steps = steps_for(draft, config)
    lines = [
        line for step, line in summary_lines(draft, lang) if step in steps or step == "options"
    ]
    kb = InlineKeyboardBuilder()
    for step in steps:
        if step != "summary":
            kb.button(text="✏️ " + t(f"wizard.step.{step}", lang), callback_data=cb("goto", step))
    kb.adjust(2)
    final = InlineKeyboardBuilder()
    final.button(text=t("wizard.save", lang), callback_data=cb("save"))
    final.button(text=t("wizard.cancel", lang), callback_data=cb("cancel"))
    kb.attach(final)
    return "\n".join(lines), kb


def card(data: dict[str, Any], templates: Templates, config: Config, lang: str) -> Card:
    """The current step's card, with its problems and the navigation row."""
    step = data["step"]
    if step == "summary":
        body, kb = summary_card(data, config, lang)
    else:
        builders = {
            "event": lambda: event_card(data, lang),
            "recipients": lambda: recipients_card(data, lang),
            "channels": lambda: channels_card(data, lang),
            "providers": lambda: providers_card(data, config, lang),
            "timing": lambda: timing_card(data, lang),
            "filters": lambda: filters_card(data, lang),
            "template": lambda: template_card(data, templates, config, lang),
            "options": lambda: options_card(data, lang),
        }
        body, kb = builders[step]()
        nav(kb, data, lang)
    text = header(data, config, lang) + "\n\n" + body
    return fit(with_errors(text, data, lang)), kb.as_markup()
