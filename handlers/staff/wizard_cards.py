"""The rule wizard's cards: for each step, its text (with the step's problems in words) and
its inline keyboard, built by small functions from the draft. No handlers here."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from markupsafe import Markup, escape

from bot.core.catalog import CATALOG
from bot.core.channels import CHANNELS
from bot.core.config import Config
from bot.core.texts import t
from bot.core.wizard_texts import problem_text
from bot.pipeline.templates import Templates
from bot.services import rule_preview
from bot.services.samples import fields_of, sample_event
from bot.services.status import provider_names
from handlers.staff.callbacks import WizardCb
from handlers.staff.wizard_draft import (
    AFTER_CHOICES,
    BEFORE_CHOICES,
    EVENT_GROUPS,
    FILTER_OPS,
    PROVIDER_KEYS,
    ROLES,
    WORKING_DAY_CHOICES,
    default_name,
    provider_channels,
    steps_for,
)

Card = tuple[str, InlineKeyboardMarkup]


def cb(action: str, value: object = "") -> str:
    return WizardCb(action=action, value=str(value)).pack()


def mark(selected: bool) -> str:
    return "✅ " if selected else "▫️ "


def title_of(event: str, lang: str) -> str:
    entry = CATALOG.get(event)
    if entry is None:
        return event or "—"
    return entry.title_ru if lang == "ru" else entry.title_en


def nav(kb: InlineKeyboardBuilder, data: dict[str, Any], lang: str) -> None:
    """Back, Next (or Done when revising from the summary), Cancel."""
    row = InlineKeyboardBuilder()
    if data.get("step") != "event" and not data.get("review"):
        row.button(text=t("wizard.back", lang), callback_data=cb("back"))
    row.button(
        text=t("wizard.done" if data.get("review") else "wizard.next", lang),
        callback_data=cb("next"),
    )
    row.button(text=t("wizard.cancel", lang), callback_data=cb("cancel"))
    kb.attach(row)


def header(data: dict[str, Any], config: Config, lang: str) -> str:
    steps = [s for s in steps_for(data["draft"], config) if s != "summary"]
    step = data["step"]
    what = (
        t("wizard.editing", lang, id=data["rule_id"])
        if data.get("rule_id")
        else t("wizard.new", lang)
    )
    if step not in steps:
        return t("wizard.header_summary", lang, what=what)
    return t(
        "wizard.header",
        lang,
        what=what,
        n=steps.index(step) + 1,
        total=len(steps),
        step=t(f"wizard.step.{step}", lang),
    )


def with_errors(text: str, data: dict[str, Any], lang: str) -> str:
    errors = data.get("errors") or []
    if not errors:
        return text
    listed = "\n".join(
        f"• {t(e[1:], lang) if e.startswith('@') else escape(problem_text(e, lang))}"
        for e in errors
    )
    return text + "\n\n" + t("wizard.problems", lang, problems=Markup(listed))


# steps ----------------------------------------------------------------------------------------
def event_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    kb = InlineKeyboardBuilder()
    group = data.get("group")
    current = data["draft"].get("event", "")
    if group in EVENT_GROUPS:
        for name in EVENT_GROUPS[group]:
            kb.button(
                text=mark(name == current) + title_of(name, lang), callback_data=cb("event", name)
            )
        kb.button(text=t("wizard.event.groups", lang), callback_data=cb("group", ""))
    else:
        for name in EVENT_GROUPS:
            kb.button(text=t(f"wizard.group.{name}", lang), callback_data=cb("group", name))
        kb.button(text=t("wizard.event.custom", lang), callback_data=cb("type", "event"))
    kb.adjust(1)
    text = t(
        "wizard.event.text",
        lang,
        current=f"{title_of(current, lang)} ({current})" if current else "—",
    )
    return text, kb


def recipients_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    chosen = data["draft"].get("recipients", [])
    kb = InlineKeyboardBuilder()
    for role in ROLES:
        kb.button(
            text=mark(role in chosen) + t(f"wizard.role.{role}", lang),
            callback_data=cb("recipient", role),
        )
    for index, typed in enumerate(chosen):  # staff:<id>, chat:<id> (":" cannot be in data)
        if typed not in ROLES:
            kb.button(text=mark(True) + typed, callback_data=cb("unrecipient", index))
    kb.button(text=t("wizard.recipients.typed", lang), callback_data=cb("type", "recipient"))
    kb.adjust(2)
    return t("wizard.recipients.text", lang, current=", ".join(chosen) or "—"), kb


def channels_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    chosen = draft.get("channels", [])
    kb = InlineKeyboardBuilder()
    for channel in CHANNELS:
        label = f"{chosen.index(channel) + 1}. {channel}" if channel in chosen else f"▫️ {channel}"
        kb.button(text=label, callback_data=cb("channel", channel))
    delivery = draft.get("delivery", "first")
    kb.button(text=t(f"wizard.delivery.{delivery}", lang), callback_data=cb("delivery"))
    kb.adjust(3, 2, 1)
    return t(
        "wizard.channels.text",
        lang,
        current=" → ".join(chosen) or "—",
        delivery=t(f"wizard.delivery.{delivery}", lang),
    ), kb


def chosen_providers(draft: dict[str, Any], channel: str) -> list[str]:
    value = draft.get(PROVIDER_KEYS[channel])
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def providers_card(
    data: dict[str, Any], config: Config, lang: str
) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    kb = InlineKeyboardBuilder()
    lines = []
    for channel in provider_channels(draft, config):
        chosen = chosen_providers(draft, channel)
        lines.append(f"{channel}: {', '.join(chosen) or t('wizard.providers.any', lang)}")
        for index, name in enumerate(provider_names(config, channel)):
            label = f"{chosen.index(name) + 1}. " if name in chosen else "▫️ "
            kb.button(
                text=f"{label}{channel}: {name}", callback_data=cb("provider", f"{channel}-{index}")
            )
    kb.adjust(2)
    return t("wizard.providers.text", lang, current="\n".join(lines)), kb


def timing_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    kb = InlineKeyboardBuilder()
    if draft.get("event") == "invoice_unpaid":
        for days in WORKING_DAY_CHOICES:
            kb.button(
                text=mark(draft.get("working_days") == days)
                + t("wizard.timing.days", lang, n=days),
                callback_data=cb("days", days),
            )
        current = t("wizard.timing.days", lang, n=draft.get("working_days", 3))
    else:
        kb.button(
            text=mark(not draft.get("before") and not draft.get("after"))
            + t("wizard.timing.at", lang),
            callback_data=cb("timing", ""),
        )
        for value in BEFORE_CHOICES:
            kb.button(
                text=mark(draft.get("before") == value)
                + t("wizard.timing.before", lang, value=value),
                callback_data=cb("timing", f"before {value}"),
            )
        for value in AFTER_CHOICES:
            kb.button(
                text=mark(draft.get("after") == value)
                + t("wizard.timing.after", lang, value=value),
                callback_data=cb("timing", f"after {value}"),
            )
        current = timing_summary(draft, lang)
    kb.button(text=t("wizard.timing.typed", lang), callback_data=cb("type", "timing"))
    kb.adjust(3)
    anchor = CATALOG[draft["event"]].anchor if draft.get("event") in CATALOG else ""
    return t("wizard.timing.text", lang, anchor=anchor, current=current), kb


def timing_summary(draft: dict[str, Any], lang: str) -> str:
    if draft.get("working_days") is not None or draft.get("event") == "invoice_unpaid":
        return t("wizard.timing.days", lang, n=draft.get("working_days", 3))
    if draft.get("before"):
        return t("wizard.timing.before", lang, value=draft["before"])
    if draft.get("after"):
        return t("wizard.timing.after", lang, value=draft["after"])
    return t("wizard.timing.at", lang)


OP_SIGNS = {"gte": "≥", "lte": "≤", "equals": "=", "in": "∈", "not_in": "∉", "any": "∋"}


def condition_text(path: str, condition: Any) -> str:
    """``order.amount ≥ 1000``, ``order.territory ∈ Москва, Химки``."""

    def shown(value: Any) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    if isinstance(condition, dict):
        parts = []
        for op, value in condition.items():
            if op == "exists":
                parts.append(f"{path} {'✓' if value else '∅'}")
            else:
                parts.append(f"{path} {OP_SIGNS.get(op, op)} {shown(value)}")
        return " & ".join(parts)
    return f"{path} {'∈' if isinstance(condition, list) else '='} {shown(condition)}"


def filters_summary(draft: dict[str, Any]) -> list[str]:
    return [condition_text(path, condition) for path, condition in draft.get("filters", {}).items()]


def filters_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    kb = InlineKeyboardBuilder()
    pending = data.get("filter") or {}
    if pending.get("path") and pending.get("op"):
        kb.button(text=t("wizard.filters.drop", lang), callback_data=cb("unpick"))
        return t(
            "wizard.filters.value",
            lang,
            path=pending["path"],
            op=t(f"wizard.op.{pending['op']}", lang),
        ), kb
    if pending.get("path"):
        for op in FILTER_OPS:
            kb.button(text=t(f"wizard.op.{op}", lang), callback_data=cb("op", op))
        kb.adjust(2)
        return t("wizard.filters.op", lang, path=pending["path"]), kb
    if data.get("picking"):
        fields = list(fields_of(str(draft.get("event", ""))))
        for index, path in enumerate(fields):
            kb.button(text=path, callback_data=cb("field", index))
        kb.button(text=t("wizard.filters.typed", lang), callback_data=cb("type", "field"))
        kb.adjust(2)
        return t("wizard.filters.pick", lang), kb
    for index, path in enumerate(draft.get("filters", {})):
        kb.button(text=f"❌ {path}", callback_data=cb("unfilter", index))
    kb.button(text=t("wizard.filters.add", lang), callback_data=cb("pick"))
    kb.adjust(1)
    listed = "\n".join(escape(line) for line in filters_summary(draft)) or "—"
    return t("wizard.filters.text", lang, current=Markup(listed)), kb


def preview_text(data: dict[str, Any], templates: Templates, config: Config, lang: str) -> str:
    draft = data["draft"]
    channels = draft.get("channels") or ["telegram"]
    channel = str(data["preview"]) if data.get("preview") in channels else str(channels[0])
    event = sample_event(str(draft.get("event", "")))
    shown = rule_preview.render(templates, config, draft, channel, event, lang)
    return preview_block(shown, lang)


def preview_block(shown: rule_preview.Preview, lang: str) -> str:
    if shown.error:
        return t("wizard.preview.error", lang, channel=shown.channel, error=shown.error)
    body = shown.text[:1500]
    # Telegram bodies are already Telegram HTML (variables escaped); others are plain text
    body_html = Markup(body) if shown.channel in ("telegram", "internal") else escape(body)
    lines = [t("wizard.preview.title", lang, channel=shown.channel)]
    if shown.subject:
        lines.append(t("wizard.preview.subject", lang, subject=shown.subject))
    lines.append(f"<blockquote>{body_html}</blockquote>")
    if shown.sms is not None:
        lines.append(
            t(
                "wizard.preview.sms",
                lang,
                segments=shown.sms.segments,
                encoding="GSM-7" if shown.sms.encoding == "gsm7" else "UCS-2",
                units=shown.sms.units,
                per=shown.sms.per_segment,
            )
        )
    return "\n".join(lines)


def template_card(
    data: dict[str, Any], templates: Templates, config: Config, lang: str
) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    kb = InlineKeyboardBuilder()
    own = draft.get("body") is not None or draft.get("subject") is not None
    kb.button(text=mark(not own) + t("wizard.template.default", lang), callback_data=cb("default"))
    kb.button(text=t("wizard.template.body", lang), callback_data=cb("type", "body"))
    if {"email", "internal"} & set(draft.get("channels", [])):
        kb.button(text=t("wizard.template.subject", lang), callback_data=cb("type", "subject"))
    for channel in draft.get("channels", []):
        kb.button(text=f"👁 {channel}", callback_data=cb("preview", channel))
    kb.adjust(1, 2, 4)
    state = t("wizard.template.own" if own else "wizard.template.kept", lang)
    return state + "\n\n" + preview_text(data, templates, config, lang), kb


def options_card(data: dict[str, Any], lang: str) -> tuple[str, InlineKeyboardBuilder]:
    draft = data["draft"]
    kb = InlineKeyboardBuilder()
    kb.button(
        text=mark(draft.get("quiet_hours", True)) + t("wizard.options.quiet", lang),
        callback_data=cb("quiet"),
    )
    kb.button(
        text=mark(draft.get("blocked", False)) + t("wizard.options.blocked", lang),
        callback_data=cb("blocked"),
    )
    kb.button(text=t("wizard.options.name", lang), callback_data=cb("type", "name"))
    kb.adjust(1)
    name = draft.get("name") or default_name(draft, lang)
    return t("wizard.options.text", lang, name=name), kb
