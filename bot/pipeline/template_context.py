"""What a template sees: the event's parts as records (a missing field is ``None``, never an
error), the recipient, and the list of variables shown to people who write templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Record:
    """Attribute access over a mapping for templates: a missing field is ``None``."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    def __getitem__(self, name: str) -> Any:
        return self._data.get(name)

    def __iter__(self) -> Any:
        return iter(self._data)

    def __bool__(self) -> bool:
        return any(v not in (None, "", [], {}) for v in self._data.values())

    def __str__(self) -> str:
        return str(self._data.get("name") or "")

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)


def wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Record({k: wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def template_context(
    event: Mapping[str, Any],
    recipient: Mapping[str, Any] | None,
    *,
    company: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a template sees: the event's parts as records, plus the recipient."""
    context: dict[str, Any] = {
        "event": Record(
            {
                "id": event.get("id"),
                "type": event.get("type"),
                "occurred_at": event.get("occurred_at"),
            }
        ),
        "items": wrap(event.get("items") or []),
        "data": wrap(event.get("data") or {}),
        "company": company,
        "recipient": wrap(recipient or {}),
    }
    for part in ("customer", "manager", "master", "author", "responsible", "order", "vehicle"):
        context[part] = wrap(event.get(part) or {})
    if extra:
        context.update(extra)
    return context


TEMPLATE_VARIABLES: tuple[tuple[str, str], ...] = (
    ("event.id, event.type, event.occurred_at", "the event itself"),
    ("customer.name, .phone, .email, .group, .birthday", "the customer (any may be empty)"),
    ("manager / master / author / responsible", "staff persons, same fields"),
    ("recipient.name, recipient.role", "the person this message goes to"),
    (
        "order.number, .status, .planned_start, .planned_finish, .amount, .paid, .currency, .url",
        "the order",
    ),
    ("items[].sku, .name, .qty, .price", "order lines"),
    ("vehicle.make, .model, .plate, .vin, .mileage", "the vehicle"),
    ("data.*", "everything else the ERP sent"),
    ("company", "service.company_name from the config"),
    ("|money(currency)", "15 000,00 ₽"),
    ("|date, |datetime, |time", "25.11.2026, 25.11.2026 14:30, 14:30 (service timezone)"),
    ("|phone", "+7 916 123-45-67"),
)
