"""The webhook's event object (docs/webhook.md) as pydantic models, and validation with paths."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EVENT_FIELDS = ("id", "type", "occurred_at", "customer", "manager", "master", "author",
                "responsible", "order", "items", "vehicle", "data")


class _In(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class PersonIn(_In):
    id: str | None = Field(None, max_length=200)
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    telegram_id: int | None = None
    group: str | None = None
    birthday: str | None = None
    language: str | None = None
    timezone: str | None = None

    @field_validator("birthday")
    @classmethod
    def _birthday(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value[:10]
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            try:  # --MM-DD: a birthday without a year
                datetime.strptime("2000" + value[1:], "%Y-%m-%d")
            except ValueError:
                raise ValueError("use YYYY-MM-DD") from None
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return value.lower()[:2] if value else None


class OrderIn(_In):
    id: str | None = None
    number: str | None = None
    kind: str | None = None
    type: str | None = None
    status: str | None = None
    territory: str | None = None
    organization: str | None = None
    warehouse: str | None = None
    planned_start: datetime | None = None
    planned_finish: datetime | None = None
    amount: Decimal | None = None
    paid: Decimal | None = None
    currency: str | None = None
    url: str | None = None


class ItemIn(_In):
    sku: str | None = None
    name: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    warehouse: str | None = None


class VehicleIn(_In):
    make: str | None = None
    model: str | None = None
    plate: str | None = None
    vin: str | None = None
    mileage: Decimal | None = None


class EventIn(_In):
    id: str = Field(min_length=1, max_length=200)
    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    occurred_at: datetime | None = None
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


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate_events(body: Any, max_batch: int) -> tuple[list[EventIn], list[dict[str, str]]]:
    """Validate a single event or ``{"events": [...]}``; every problem with its path."""
    if isinstance(body, dict) and "events" in body and "type" not in body:
        items = body["events"]
        if not isinstance(items, list):
            return [], [{"path": "events", "message": "must be a list of events"}]
        if not items:
            return [], [{"path": "events", "message": "the batch is empty"}]
        if len(items) > max_batch:
            return [], [{"path": "events",
                         "message": f"at most {max_batch} events per request, got {len(items)}"}]
        prefixed = [(f"events[{i}]", item) for i, item in enumerate(items)]
    elif isinstance(body, dict):
        prefixed = [("", body)]
    else:
        return [], [{"path": "", "message": "expected an event object or {\"events\": [...]}"}]
    events, problems = [], []
    for prefix, item in prefixed:
        try:
            events.append(EventIn.model_validate(item).normalized())
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                problems.append({"path": _path(prefix, err["loc"]) or "(event)",
                                 "message": err["msg"]})
    return events, problems
