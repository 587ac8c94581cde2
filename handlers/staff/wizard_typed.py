"""What a typed answer in the rule wizard means, for each thing the wizard asks to type.
Each function changes the dialogue's data and returns the problems (empty: accepted); the
answer is checked by the same validation as a rule file, on the step it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.config import Config
from bot.pipeline.templates import Templates, syntax_problem
from handlers.staff.wizard_draft import (
    filter_condition,
    parse_timing,
    set_timing,
    step_problems,
    toggle,
)
from handlers.staff.wizard_steps import advance

Typed = Callable[[dict[str, Any], str, Templates, Config], list[str]]


def _event(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    data["draft"]["event"] = text.strip()
    problems = step_problems(data["draft"], "event")
    if problems:
        data["draft"].pop("event")
        return problems
    advance(data, config)
    return []


def _recipient(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    draft = data["draft"]
    before = list(draft.get("recipients", []))
    draft["recipients"] = toggle(before, text.strip())
    problems = step_problems(draft, "recipients")
    if problems:
        draft["recipients"] = before
    return problems


def _timing(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    draft = data["draft"]
    if draft.get("event") == "invoice_unpaid":
        if not text.strip().isdigit():
            return [f"working_days: {text.strip()!r} is not a number of days"]
        values: dict[str, Any] = {"working_days": int(text.strip())}
    else:
        try:
            values = parse_timing(text)
        except ValueError as exc:
            return [f"timing: {exc}"]
    before = {k: draft[k] for k in ("before", "after", "working_days") if k in draft}
    set_timing(draft, values)
    problems = step_problems(draft, "timing")
    if problems:
        set_timing(draft, before)
    return problems


def _field(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    path = text.strip()
    probe = {**data["draft"], "filters": {path: {"exists": True}}}
    problems = step_problems(probe, "filters")
    if not problems:
        data["filter"], data["picking"] = {"path": path}, False
    return problems


def _value(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    pending = data.get("filter") or {}
    if not pending.get("path") or not pending.get("op"):
        return []
    filters = data["draft"].setdefault("filters", {})
    before = filters.get(pending["path"])
    filters[pending["path"]] = filter_condition(pending["op"], text)
    problems = step_problems(data["draft"], "filters")
    if problems:  # keep what was there; the user types the value again
        if before is None:
            del filters[pending["path"]]
        else:
            filters[pending["path"]] = before
        return problems
    data["filter"] = {}
    return []


def _template(key: str) -> Typed:
    def typed(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
        problem = syntax_problem(text)  # as the import checks it (unknown filters too)
        if problem:
            return [f"{key}: {problem}"]
        data["draft"][key] = text
        return step_problems(data["draft"], "template")

    return typed


def _name(data: dict[str, Any], text: str, templates: Templates, config: Config) -> list[str]:
    data["draft"]["name"] = " ".join(text.split())
    return step_problems(data["draft"], "options")


TYPED: dict[str, Typed] = {
    "event": _event,
    "recipient": _recipient,
    "timing": _timing,
    "field": _field,
    "value": _value,
    "subject": _template("subject"),
    "body": _template("body"),
    "name": _name,
}
