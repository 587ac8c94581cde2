"""What each press in the rule wizard does to the dialogue's data: one small function per
button kind, looked up in :data:`PRESSES`. A function may return the name of a typed input
to ask for (``"body"``, ``"value"``...). No Telegram here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.config import Config
from bot.services.samples import fields_of
from bot.services.status import provider_names
from handlers.staff.wizard_draft import (
    PROVIDER_KEYS,
    has_timing,
    parse_timing,
    set_timing,
    step_after,
    step_before,
    step_problems,
    steps_for,
    toggle,
)

Press = Callable[[dict[str, Any], str, Config], str | None]


def advance(data: dict[str, Any], config: Config) -> None:
    """Next (or back to the summary when revising), unless the step has problems."""
    problems = step_problems(data["draft"], data["step"])
    required = {"event": "event", "recipients": "recipients", "channels": "channels"}
    key = required.get(data["step"])
    if key and not data["draft"].get(key) and not problems:
        problems = [f"@wizard.need.{key}"]  # a text key: translated when shown
    data["errors"] = problems
    if problems:
        return
    data["step"] = (
        "summary" if data.get("review") else step_after(data["step"], data["draft"], config)
    )


def _group(data: dict[str, Any], value: str, config: Config) -> None:
    data["group"] = value


def _event(data: dict[str, Any], value: str, config: Config) -> None:
    draft = data["draft"]
    draft["event"] = value
    data["group"] = ""
    if not has_timing(value):
        set_timing(draft, {})
    elif value != "invoice_unpaid":
        draft.pop("working_days", None)
    # a filter on a field the new type does not carry is kept: the user sees it and decides
    advance(data, config)


def _recipient(data: dict[str, Any], value: str, config: Config) -> None:
    data["draft"]["recipients"] = toggle(data["draft"].get("recipients", []), value)


def _unrecipient(data: dict[str, Any], value: str, config: Config) -> None:
    chosen = data["draft"].get("recipients", [])
    if value.isdigit() and int(value) < len(chosen):
        data["draft"]["recipients"] = chosen[: int(value)] + chosen[int(value) + 1 :]


def _channel(data: dict[str, Any], value: str, config: Config) -> None:
    draft = data["draft"]
    draft["channels"] = toggle(draft.get("channels", []), value)
    for channel, key in PROVIDER_KEYS.items():
        if channel not in draft["channels"]:
            draft.pop(key, None)


def _delivery(data: dict[str, Any], value: str, config: Config) -> None:
    draft = data["draft"]
    draft["delivery"] = "all" if draft.get("delivery", "first") == "first" else "first"


def _provider(data: dict[str, Any], value: str, config: Config) -> None:
    channel, _, index = value.partition("-")
    names = provider_names(config, channel)
    if channel not in PROVIDER_KEYS or not index.isdigit() or int(index) >= len(names):
        return
    name, key, draft = names[int(index)], PROVIDER_KEYS[channel], data["draft"]
    if channel == "sms":  # a chain, tried in the order pressed
        current = draft.get(key) or []
        chain = toggle([current] if isinstance(current, str) else list(current), name)
        if chain:
            draft[key] = chain
        else:
            draft.pop(key, None)
    elif draft.get(key) == name:
        draft.pop(key)
    else:
        draft[key] = name


def _timing(data: dict[str, Any], value: str, config: Config) -> None:
    set_timing(data["draft"], parse_timing(value) if value else {})


def _days(data: dict[str, Any], value: str, config: Config) -> None:
    if value.isdigit():
        set_timing(data["draft"], {"working_days": int(value)})


def _pick(data: dict[str, Any], value: str, config: Config) -> None:
    data["picking"], data["filter"] = True, {}


def _field(data: dict[str, Any], value: str, config: Config) -> None:
    fields = list(fields_of(str(data["draft"].get("event", ""))))
    if value.isdigit() and int(value) < len(fields):
        data["filter"], data["picking"] = {"path": fields[int(value)]}, False


def _op(data: dict[str, Any], value: str, config: Config) -> str | None:
    pending = data.get("filter") or {}
    if not pending.get("path"):
        return None
    if value == "exists":
        data["draft"].setdefault("filters", {})[pending["path"]] = {"exists": True}
        data["filter"] = {}
        return None
    pending["op"] = value
    data["filter"] = pending
    return "value"


def _unpick(data: dict[str, Any], value: str, config: Config) -> None:
    data["filter"], data["picking"], data["errors"] = {}, False, []


def _unfilter(data: dict[str, Any], value: str, config: Config) -> None:
    paths = list(data["draft"].get("filters", {}))
    if value.isdigit() and int(value) < len(paths):
        del data["draft"]["filters"][paths[int(value)]]


def _default(data: dict[str, Any], value: str, config: Config) -> None:
    data["draft"].pop("body", None)
    data["draft"].pop("subject", None)
    data["errors"] = []


def _preview(data: dict[str, Any], value: str, config: Config) -> None:
    data["preview"] = value


def _quiet(data: dict[str, Any], value: str, config: Config) -> None:
    data["draft"]["quiet_hours"] = not data["draft"].get("quiet_hours", True)


def _blocked(data: dict[str, Any], value: str, config: Config) -> None:
    data["draft"]["blocked"] = not data["draft"].get("blocked", False)


def _next(data: dict[str, Any], value: str, config: Config) -> None:
    advance(data, config)


def _back(data: dict[str, Any], value: str, config: Config) -> None:
    data["errors"] = []
    data["step"] = step_before(data["step"], data["draft"], config)


def _goto(data: dict[str, Any], value: str, config: Config) -> None:
    if value in steps_for(data["draft"], config):
        data["step"], data["review"], data["errors"] = value, True, []


def _card(data: dict[str, Any], value: str, config: Config) -> None:
    """Back from a typed-input prompt to the card."""


PRESSES: dict[str, Callable[[dict[str, Any], str, Config], Any]] = {
    "group": _group,
    "event": _event,
    "recipient": _recipient,
    "unrecipient": _unrecipient,
    "channel": _channel,
    "delivery": _delivery,
    "provider": _provider,
    "timing": _timing,
    "days": _days,
    "pick": _pick,
    "field": _field,
    "op": _op,
    "unpick": _unpick,
    "unfilter": _unfilter,
    "default": _default,
    "preview": _preview,
    "quiet": _quiet,
    "blocked": _blocked,
    "next": _next,
    "back": _back,
    "goto": _goto,
    "card": _card,
}
