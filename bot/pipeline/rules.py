"""A rule (docs/rules.md): the model with its validation, one rule at a time, and its
stored form. The file that holds rules is ``rule_file.py``; the ``filters`` language is
``rule_filters.py``.
"""

from __future__ import annotations

import re
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

from bot.core.catalog import CATALOG
from bot.core.channels import CHANNELS, CUSTOMER_CHANNELS, TABLE
from bot.core.config import parse_duration
from bot.pipeline.rule_checks import import_problems
from bot.pipeline.rule_filters import check_filters
from storage.models import StoredRule

_RECIPIENT = re.compile(r"^(customer|manager|master|author|responsible|staff:.+|chat:-?\d+)$")


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
        return check_filters(value)

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


def _key(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(rule)"


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


def to_stored(rule: Rule) -> StoredRule:
    definition = rule.model_dump(exclude_none=True, exclude_defaults=False)
    return StoredRule(name=rule.name, event=rule.event, blocked=rule.blocked, definition=definition)


def from_stored(stored: StoredRule) -> Rule:
    return Rule.model_validate({**stored.definition, "blocked": stored.blocked})
