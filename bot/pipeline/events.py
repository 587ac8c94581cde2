"""The webhook's event object (docs/webhook.md) as pydantic models, and validation with paths."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bot.pipeline.body import scan
from bot.pipeline.problems import from_pydantic, problem

EVENT_FIELDS = (
    "id",
    "type",
    "occurred_at",
    "customer",
    "manager",
    "master",
    "author",
    "responsible",
    "order",
    "items",
    "vehicle",
    "data",
)


EMPTY_1C_DATE = "0001-01-01"  # how 1C writes a date that is not set
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_AMOUNT = Decimal(10) ** 15
LANGUAGES = ("ru", "en")  # the languages we have texts for


def _empty_1c_date(value: Any) -> Any:
    """1C's empty date means "not set" wherever a date is read."""
    if isinstance(value, str) and value.strip().startswith(EMPTY_1C_DATE):
        return None
    return value


def _date_in_range(value: datetime | None) -> datetime | None:
    # years outside this range overflow when moved to UTC or by a rule's offset
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError("date_range")
    return value


def _amount_in_range(value: Decimal | None) -> Decimal | None:
    if value is not None and abs(value) >= MAX_AMOUNT:
        raise ValueError("number_range")
    return value


Moment = Annotated[datetime | None, BeforeValidator(_empty_1c_date), AfterValidator(_date_in_range)]
Amount = Annotated[Decimal | None, AfterValidator(_amount_in_range)]


class _In(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


def check_birthday(value: str | None) -> str | None:
    """``YYYY-MM-DD`` or ``--MM-DD``; 1C's empty date is no birthday."""
    if not value or value.strip().startswith(EMPTY_1C_DATE):
        return None
    value = value.strip()[:10]
    shape = re.fullmatch(r"(\d{4}|--)-?(\d{2})-(\d{2})", value)
    if shape is None or (value.startswith("--") and len(value) != 7):
        raise ValueError("date")
    year = 2000 if value.startswith("--") else int(shape.group(1))
    try:
        date(year, int(shape.group(2)), int(shape.group(3)))
    except ValueError:
        raise ValueError("no_such_date") from None
    if not value.startswith("--") and not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError("date_range")
    return value


class PersonIn(_In):
    id: str | None = Field(None, max_length=200)
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    telegram_id: int | None = Field(None, ge=-(2**63), lt=2**63)  # BIGINT in the database
    group: str | None = None
    birthday: str | None = None
    language: str | None = None
    timezone: str | None = None

    @field_validator("birthday")
    @classmethod
    def _birthday(cls, value: str | None) -> str | None:
        return check_birthday(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return value.strip().lower()[:2] if value and value.strip() else None


class OrderIn(_In):
    id: str | None = None
    number: str | None = None
    kind: str | None = None
    type: str | None = None
    status: str | None = None
    territory: str | None = None
    organization: str | None = None
    warehouse: str | None = None
    planned_start: Moment = None
    planned_finish: Moment = None
    amount: Amount = None
    paid: Amount = None
    currency: str | None = None
    url: str | None = None


class ItemIn(_In):
    sku: str | None = None
    name: str | None = None
    qty: Amount = None
    price: Amount = None
    warehouse: str | None = None


class VehicleIn(_In):
    make: str | None = None
    model: str | None = None
    plate: str | None = None
    vin: str | None = None
    mileage: Amount = None


class EventIn(_In):
    id: str = Field(min_length=1, max_length=200)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    occurred_at: Moment = None
    customer: PersonIn | None = None
    manager: PersonIn | None = None
    master: PersonIn | None = None
    author: PersonIn | None = None
    responsible: PersonIn | None = None
    order: OrderIn | None = None
    items: list[ItemIn] = Field(default_factory=list)
    vehicle: VehicleIn | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def normalized(self) -> EventIn:
        """Unknown top-level fields move under ``data`` (docs/webhook.md)."""
        extra = self.model_extra
        if extra:
            self.data = {**extra, **self.data}
            extra.clear()
        return self


def _batch_items(
    body: Any, max_batch: int, language: str
) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    if isinstance(body, dict) and "events" in body and "type" not in body:
        items = body["events"]
        if not isinstance(items, list):
            return [], [problem("events", "list", language, items)]
        if not items:
            return [], [problem("events", "batch_not_empty", language, items)]
        if len(items) > max_batch:
            return [], [problem("events", "batch_size", language, len(items), limit=max_batch)]
        return [(f"events[{i}]", item) for i, item in enumerate(items)], []
    if isinstance(body, dict):
        return [("", body)], []
    return [], [problem("", "event_or_batch", language, body)]


def validate_payload(
    body: Any,
    language: str = "ru",
    max_batch: int = 1000,
) -> tuple[list[EventIn], list[dict[str, Any]]]:
    """A single event or ``{"events": [...]}`` (parsed JSON) to events, or every problem
    with its path, the value given and what is expected, in ``language`` (ru or en)."""
    prefixed, problems = _batch_items(body, max_batch, language)
    events: list[EventIn] = []
    for prefix, item in prefixed:
        found = scan(item, prefix, language)
        if found:  # values we will not store: pydantic would only repeat them worse
            problems += found
            continue
        try:
            events.append(EventIn.model_validate(item).normalized())
        except ValidationError as exc:
            problems += [
                from_pydantic(prefix, err, language) for err in exc.errors(include_url=False)
            ]
    return events, problems


def validate_events(
    body: Any, max_batch: int, language: str = "ru"
) -> tuple[list[EventIn], list[dict[str, Any]]]:
    """Kept for callers of the old name: :func:`validate_payload`."""
    return validate_payload(body, language, max_batch)
