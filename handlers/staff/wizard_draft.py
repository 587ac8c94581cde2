"""The rule wizard's draft: which steps a draft goes through, what a typed value means, and
which step a validation problem belongs to. No Telegram here: plain data in, plain data out.
Validation is the rule file's own (:func:`bot.pipeline.rules.validate_rule`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiogram.fsm.state import State, StatesGroup

from bot.core.catalog import CATALOG
from bot.core.channels import TABLE
from bot.core.config import Config, parse_duration
from bot.pipeline.rules import validate_rule
from bot.services.status import provider_names

STEPS = (
    "event",
    "recipients",
    "channels",
    "providers",
    "timing",
    "filters",
    "template",
    "options",
    "summary",
)
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_booked",
        "repair_start_reminder",
        "repair_finish_reminder",
        "repair_completed",
        "order_status_changed",
        "order_rescheduled",
        "order_cancelled",
    ),
    "parts": (
        "supplier_order_placed",
        "parts_arrived",
        "all_parts_arrived",
        "customer_order_created",
        "shipped",
    ),
    "money": ("payment_received", "fully_paid", "invoice_issued", "invoice_unpaid"),
    "care": ("bonus_changed", "bonus_expiring", "maintenance_due", "insurance_renewal", "birthday"),
    "tasks": ("task_scheduled", "task_reminder", "task_done", "task_cancelled"),
}
ROLES = ("customer", "manager", "master", "author", "responsible")
FILTER_OPS = ("equals", "in", "not_in", "any", "gte", "lte", "exists")
BEFORE_CHOICES = ("15m", "1h", "2h", "1d", "3d")
AFTER_CHOICES = ("1h", "1d")
WORKING_DAY_CHOICES = (1, 2, 3, 5, 10)
PROVIDER_KEYS = {
    name: spec.rule_key
    for name, spec in TABLE.items()
    if spec.rule_key and spec.providers is not None
}
# a problem's key (as the rule file names it) -> the step that sets it
STEP_OF_KEY = {
    "name": "options",
    "event": "event",
    "recipients": "recipients",
    "channels": "channels",
    "delivery": "channels",
    "sms_portal": "providers",
    "email_account": "providers",
    "modem": "providers",
    "before": "timing",
    "after": "timing",
    "working_days": "timing",
    "filters": "filters",
    "subject": "template",
    "body": "template",
    "html": "template",
    "quiet_hours": "options",
    "blocked": "options",
}
# stand-ins while a step is not done yet, so a step's own problems can be told apart
PLACEHOLDERS = {
    "name": "draft",
    "event": "draft_event",
    "recipients": ["manager"],
    "channels": ["email"],
}


class RuleWizard(StatesGroup):
    choosing = State()  # a card is shown; buttons drive it
    typing_event = State()
    typing_recipient = State()
    typing_timing = State()
    typing_field = State()
    typing_value = State()
    typing_subject = State()
    typing_body = State()
    typing_name = State()


TYPING = {
    "event": RuleWizard.typing_event,
    "recipient": RuleWizard.typing_recipient,
    "timing": RuleWizard.typing_timing,
    "field": RuleWizard.typing_field,
    "value": RuleWizard.typing_value,
    "subject": RuleWizard.typing_subject,
    "body": RuleWizard.typing_body,
    "name": RuleWizard.typing_name,
}


def has_timing(event: str) -> bool:
    entry = CATALOG.get(event)
    return entry is not None and entry.anchor != "occurred_at"


def provider_channels(draft: dict[str, Any], config: Config) -> list[str]:
    """The draft's channels that have several providers to choose from."""
    return [
        c
        for c in draft.get("channels", [])
        if c in PROVIDER_KEYS and len(provider_names(config, c)) > 1
    ]


def steps_for(draft: dict[str, Any], config: Config) -> list[str]:
    skip = set()
    if not provider_channels(draft, config):
        skip.add("providers")
    if not has_timing(str(draft.get("event", ""))):
        skip.add("timing")
    return [step for step in STEPS if step not in skip]


def step_after(step: str, draft: dict[str, Any], config: Config) -> str:
    steps = steps_for(draft, config)
    if step not in steps:
        return steps[0]
    return steps[min(steps.index(step) + 1, len(steps) - 1)]


def step_before(step: str, draft: dict[str, Any], config: Config) -> str:
    steps = steps_for(draft, config)
    if step not in steps:
        return steps[0]
    return steps[max(steps.index(step) - 1, 0)]


def problems(draft: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every problem of the draft as (step, key, message), stand-ins for unfinished steps."""
    probe = {**PLACEHOLDERS, **{k: v for k, v in draft.items() if v not in (None, "", [])}}
    _, found = validate_rule(probe)
    out = []
    for key, message in found:
        root = key.split(".")[0]
        out.append((STEP_OF_KEY.get(root, "summary"), key, message))
    return out


def step_problems(draft: dict[str, Any], step: str) -> list[str]:
    return [f"{key}: {message}" for where, key, message in problems(draft) if where == step]


def number_or_text(raw: str) -> Any:
    try:
        number = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return raw
    return int(number) if number == number.to_integral_value() else float(number)


def filter_condition(op: str, raw: str) -> Any:
    """The condition a typed value makes for ``op``: lists split at commas, numbers parsed."""
    raw = raw.strip()
    if op in ("in", "not_in", "any"):
        values = [number_or_text(part.strip()) for part in raw.split(",") if part.strip()]
        return {op: values}
    if op == "exists":
        return {"exists": raw.lower() in ("true", "yes", "да", "1")}
    if op in ("gte", "lte"):
        value = number_or_text(raw)
        return {op: value}
    return number_or_text(raw)


def parse_timing(raw: str) -> dict[str, str]:
    """``before 2h``, ``after 1d``, ``за 2h``, ``через 1d`` or just ``90m`` (before);
    ValueError with the reason."""
    words = raw.strip().lower().split()
    if not words:
        raise ValueError("empty")
    key = "before"
    if words[0] in ("before", "за", "after", "через", "после"):
        key = "before" if words[0] in ("before", "за") else "after"
        words = words[1:]
    value = "".join(words)
    parse_duration(value)
    return {key: value}


def set_timing(draft: dict[str, Any], values: dict[str, Any]) -> None:
    for key in ("before", "after", "working_days"):
        draft.pop(key, None)
    draft.update(values)


def toggle(items: list[Any], value: Any) -> list[Any]:
    return [i for i in items if i != value] if value in items else [*items, value]


def default_name(draft: dict[str, Any], lang: str) -> str:
    entry = CATALOG.get(str(draft.get("event", "")))
    title = (
        (entry.title_ru if lang == "ru" else entry.title_en)
        if entry
        else str(draft.get("event", "rule"))
    )
    who = ", ".join(draft.get("recipients", []))
    return f"{title}, {who}" if who else title
