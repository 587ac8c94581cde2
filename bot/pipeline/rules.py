"""Rules (docs/rules.md): the TOML format, validation with the rule name and key of every error,
and the filter language applied to an event.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.core.catalog import CATALOG, PERSON_ROLES
from bot.core.channels import CHANNELS, CUSTOMER_CHANNELS, TABLE
from bot.core.config import parse_duration
from bot.pipeline.rule_checks import import_problems
from storage.base import Storage
from storage.models import StoredRule

_RECIPIENT = re.compile(r"^(customer|manager|master|author|responsible|staff:.+|chat:-?\d+)$")
FILTER_OPERATORS = ("equals", "in", "not_in", "any", "exists", "gte", "lte")


def _known_channel(value: str) -> str:
    if value not in TABLE:
        raise ValueError(f"unknown channel {value!r}: use " + ", ".join(CHANNELS))
    return value


ChannelName = Annotated[str, AfterValidator(_known_channel)]


class Rule(BaseModel):
    """One rule, as written in TOML (unknown keys are errors: a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    event: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    recipients: list[str] = Field(min_length=1)
    channels: list[ChannelName] = Field(min_length=1)
    delivery: Literal["first", "all"] = "first"
    before: str | None = None
    after: str | None = None
    sms_portal: str | list[str] | None = None
    modem: str | None = None
    email_account: str | None = None
    sender_name: str | None = None
    filters: dict[str, Any] = {}
    subject: str | None = None
    body: str | None = None
    html: str | None = None
    quiet_hours: bool = True
    working_days: int | None = Field(None, ge=1, le=60)
    translit: bool = False
    max_segments: int | None = Field(None, ge=1, le=255)
    language: Literal["ru", "en"] | None = None
    blocked: bool = False

    @field_validator("subject", "body", "html")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        """A template that does not compile is refused here, not found out when sending."""
        if value is not None:
            try:
                SandboxedEnvironment().parse(value)
            except TemplateSyntaxError as exc:
                raise ValueError(
                    f"template does not compile, line {exc.lineno}: {exc.message}"
                ) from None
        return value

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _RECIPIENT.match(item):
                raise ValueError(
                    f"unknown recipient {item!r}: use customer, manager, master, author, "
                    "responsible, staff:<id> or chat:<telegram chat id>"
                )
        return value

    @field_validator("before", "after", mode="before")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, condition in value.items():
            if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", path):
                raise ValueError(f"{path!r} is not a dotted path like order.territory")
            if isinstance(condition, dict):
                unknown = set(condition) - set(FILTER_OPERATORS)
                if unknown or not condition:
                    raise ValueError(
                        f"{path}: unknown operator {', '.join(sorted(unknown)) or '(none)'}; "
                        f"use {', '.join(FILTER_OPERATORS)}"
                    )
                for op in ("in", "not_in", "any"):
                    if op in condition and not isinstance(condition[op], list):
                        raise ValueError(f"{path}: {op} takes a list")
                for op in ("gte", "lte"):
                    if op in condition and not _orderable(condition[op]):
                        raise ValueError(
                            f"{path}: {op} takes a number or an ISO date "
                            f"(2026-11-25), not {condition[op]!r}"
                        )
                if "exists" in condition and not isinstance(condition["exists"], bool):
                    raise ValueError(f"{path}: exists takes true or false")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str], info: ValidationInfo) -> list[str]:
        staff_only = [c for c in value if not TABLE[c].for_customers]
        if staff_only and "customer" in info.data.get("recipients", []):
            raise ValueError(
                f"{staff_only[0]} is for staff only: a rule for the customer cannot use it"
            )
        return value

    @field_validator("after")
    @classmethod
    def _one_offset(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("before") is not None:
            raise ValueError("set before or after, not both")
        return value

    @field_validator("before")
    @classmethod
    def _before_needs_a_later_anchor(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = CATALOG.get(info.data.get("event", ""))
        if value is not None and known is not None and known.anchor == "occurred_at":
            raise ValueError(
                f"{known.name} is anchored at the moment the ERP posts it: "
                "nothing can be sent before it (use after, or a reminder type)"
            )
        return value

    @field_validator("working_days")
    @classmethod
    def _working_days(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("event") != "invoice_unpaid":
            raise ValueError("working_days applies to invoice_unpaid only")
        return value

    @property
    def portals(self) -> list[str]:
        if self.sms_portal is None:
            return []
        return [self.sms_portal] if isinstance(self.sms_portal, str) else list(self.sms_portal)

    def providers_for(self, channel: str) -> list[str]:
        """The providers this rule names for ``channel`` (the channel table's ``rule_key``)."""
        spec = TABLE.get(channel)
        value = getattr(self, spec.rule_key) if spec is not None and spec.rule_key else None
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    def customer_channels(self) -> list[str]:
        return [c for c in self.channels if c in CUSTOMER_CHANNELS]


class RuleFileError(Exception):
    """A rule file rejected as a whole; ``errors`` name the rule and key of each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


def _key(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(rule)"


def _orderable(value: Any) -> bool:
    """A bound for gte/lte: a number, or a date/time (ISO text compares in order)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, date, datetime)):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
            return True
        except InvalidOperation:
            pass
        try:
            datetime.fromisoformat(value)
            return True
        except ValueError:
            return False
    return False


def validate_rule(item: Any) -> tuple[Rule | None, list[tuple[str, str]]]:
    """One rule: the model, or every problem as (key, message): its shape, then what an
    import checks beyond it (templates compile, one-line headers, recipients). ``parse_rules``
    (the TOML import) and the bot's rule wizard both validate through here."""
    try:
        rule = Rule.model_validate(item)
    except ValidationError as exc:
        return None, [
            (_key(err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False)
        ]
    problems = import_problems(rule)
    return (None, problems) if problems else (rule, [])


def parse_rules(data: dict[str, Any]) -> list[Rule]:
    """Validate ``{"rules": [...]}``; raise :class:`RuleFileError` listing every problem."""
    raw = data.get("rules")
    unknown = set(data) - {"rules"}
    errors = [
        f"top level: unknown key {key!r} (rules go in [[rules]] tables)" for key in sorted(unknown)
    ]
    if not isinstance(raw, list):
        raise RuleFileError(errors + ["top level: no [[rules]] tables found"])
    rules, names = [], set()
    for index, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        label = f"rule {name!r}" if name else f"rule #{index + 1}"
        rule, problems = validate_rule(item)
        errors += [f"{label}: {key}: {msg}" for key, msg in problems]
        if rule is None:
            continue
        if rule.name in names:
            errors.append(f"{label}: name: duplicate rule name in this file")
        names.add(rule.name)
        rules.append(rule)
    if errors:
        raise RuleFileError(errors)
    return rules


def parse_rules_toml(text: str) -> list[StoredRule]:
    try:
        data = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError([f"not valid TOML: {exc}"]) from None
    return [to_stored(rule) for rule in parse_rules(data)]


def to_stored(rule: Rule) -> StoredRule:
    definition = rule.model_dump(exclude_none=True, exclude_defaults=False)
    return StoredRule(name=rule.name, event=rule.event, blocked=rule.blocked, definition=definition)


def from_stored(stored: StoredRule) -> Rule:
    return Rule.model_validate({**stored.definition, "blocked": stored.blocked})


async def import_rules(storage: Storage, text: str) -> tuple[int, int]:
    """Validate the whole file, then upsert by name: (created, updated)."""
    rules = parse_rules_toml(text)
    async with storage.transaction() as tx:
        return await tx.upsert_rules(rules)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value:
            return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    return _toml_value(str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def export_rules_toml(rules: list[StoredRule]) -> str:
    """TOML that ``vestnik rules import`` reads back unchanged."""
    chunks = []
    for stored in rules:
        definition = {**stored.definition, "blocked": stored.blocked}
        lines = [f"# id {stored.id}", "[[rules]]"]
        lines += [
            f"{_toml_key(k)} = {_toml_value(v)}"
            for k, v in definition.items()
            if v is not None and v != {} and v != []
        ]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + ("\n" if chunks else "")


# filters ------------------------------------------------------------------------------------
_MISSING = object()


def resolve_path(document: Any, path: str) -> Any:
    """Dotted path into the event; through lists it collects every element's value."""
    current: Any = document
    for part in path.split("."):
        if isinstance(current, list):
            collected: list[Any] = []
            for element in current:
                value = element.get(part, _MISSING) if isinstance(element, dict) else _MISSING
                if value is _MISSING:
                    continue
                collected.extend(value if isinstance(value, list) else [value])
            current = collected
        elif isinstance(current, dict):
            current = current.get(part, _MISSING)
            if current is _MISSING or current is None:
                return _MISSING
        else:
            return _MISSING
    return current


def _comparable(value: Any) -> Any:
    """A number as a Decimal; NaN and infinities ("NaN", "sNaN") compare as the text they
    are, since Decimal refuses to order them."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = Decimal(str(value))
        return number if number.is_finite() else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    return value


def _same(a: Any, b: Any) -> bool:
    ca, cb = _comparable(a), _comparable(b)
    if type(ca) is type(cb):
        return bool(ca == cb)
    return str(a) == str(b)


def _order(a: Any, b: Any) -> int | None:
    ca, cb = _comparable(a), _comparable(b)
    if isinstance(ca, Decimal) and isinstance(cb, Decimal):
        return (ca > cb) - (ca < cb)
    if isinstance(ca, str) and isinstance(cb, str):  # ISO dates and times compare as text
        return (ca > cb) - (ca < cb)
    return None


def _values(found: Any) -> list[Any]:
    if found is _MISSING:
        return []
    return found if isinstance(found, list) else [found]


def condition_holds(found: Any, condition: Any) -> bool:
    values = _values(found)
    if isinstance(condition, dict):
        for op, expected in condition.items():
            if op == "exists":
                if bool(values) != bool(expected):
                    return False
            elif op == "equals":
                if not any(_same(v, expected) for v in values):
                    return False
            elif op in ("in", "any"):
                if not any(_same(v, e) for v in values for e in expected):
                    return False
            elif op == "not_in":
                if any(_same(v, e) for v in values for e in expected):
                    return False
            elif op in ("gte", "lte"):
                sign = 1 if op == "gte" else -1
                if not values or not all(
                    (cmp := _order(v, expected)) is not None and cmp * sign >= 0 for v in values
                ):
                    return False
        return True
    if isinstance(condition, list):
        return any(_same(v, e) for v in values for e in condition)
    return any(_same(v, condition) for v in values)


def filters_match(filters: dict[str, Any], document: dict[str, Any]) -> bool:
    return all(
        condition_holds(resolve_path(document, path), condition)
        for path, condition in filters.items()
    )


RECIPIENT_ROLES = PERSON_ROLES
ALL_CHANNELS = CHANNELS
