"""A sample event of every catalog type: what the rule wizard previews templates on, and
where it finds the fields a filter can test. Realistic, made-up values."""

from __future__ import annotations

import copy
from typing import Any

from bot.core.catalog import CATALOG

BASE: dict[str, Any] = {
    "id": "sample-1",
    "occurred_at": "2026-11-25T10:00:00+03:00",
    "customer": {
        "id": "C-001",
        "name": "Иван Петров",
        "phone": "+79161234567",
        "email": "ivan@example.ru",
        "group": "retail",
        "language": "ru",
    },
    "manager": {"id": "S-7", "name": "Ольга Смирнова", "phone": "+79160000007"},
    "master": {"id": "S-9", "name": "Сергей Кузнецов", "phone": "+79160000009"},
    "order": {
        "id": "ORD-1",
        "number": "ЗН-000123",
        "status": "В работе",
        "planned_start": "2026-11-27T09:00:00+03:00",
        "planned_finish": "2026-11-27T18:00:00+03:00",
        "amount": 15000,
        "paid": 5000,
        "currency": "RUB",
        "territory": "Москва",
        "warehouse": "Основной",
        "url": "https://service.example.ru/o/123",
    },
    "vehicle": {
        "make": "Lada",
        "model": "Vesta",
        "plate": "А123ВС777",
        "vin": "XTA000000P0000001",
        "mileage": 45000,
    },
    "items": [
        {"sku": "OF-100", "name": "Фильтр масляный", "qty": 1, "price": 850},
        {"sku": "BP-220", "name": "Колодки тормозные", "qty": 2, "price": 3200},
    ],
}

DATA: dict[str, dict[str, Any]] = {
    "payment_received": {"amount": 5000, "currency": "RUB", "method": "card"},
    "fully_paid": {"amount": 15000, "currency": "RUB"},
    "invoice_issued": {"invoice_number": "СЧ-0042", "amount": 10000, "currency": "RUB"},
    "invoice_unpaid": {"invoice_number": "СЧ-0042", "amount": 10000, "currency": "RUB"},
    "bonus_changed": {"delta": 300, "balance": 1200},
    "bonus_expiring": {"balance": 1200, "expires_on": "2026-12-31"},
    "shipped": {
        "tracking_number": "RA123456789RU",
        "survey_url": "https://service.example.ru/survey",
    },
    "maintenance_due": {"due_on": "2026-12-15"},
    "insurance_renewal": {"expires_on": "2026-12-20", "policy": "ОСАГО ХХХ 0123456789"},
    "order_status_changed": {"previous_status": "Записан"},
    "supplier_order_placed": {"supplier": "Автодеталь"},
    "task_scheduled": {
        "task_id": "T-5",
        "title": "Перезвонить клиенту",
        "description": "Уточнить время выдачи",
        "starts_at": "2026-11-26T11:00:00+03:00",
    },
    "order_cancelled": {"reason": "клиент передумал"},
    "birthday": {},
}
DATA["task_reminder"] = DATA["task_done"] = DATA["task_cancelled"] = DATA["task_scheduled"]


def sample_event(event_type: str) -> dict[str, Any]:
    """The sample as the planner's document: a fresh copy the caller may change."""
    event = copy.deepcopy(BASE)
    event["type"] = event_type
    event["id"] = f"sample-{event_type}"
    event["data"] = copy.deepcopy(DATA.get(event_type, {}))
    if event_type == "order_rescheduled":
        event["order"]["planned_start"] = "2026-11-28T09:00:00+03:00"
    if event_type == "birthday":
        event["customer"]["birthday"] = "1985-11-25"
    return event


def _paths(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _paths(inner, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for element in value:
            _paths(element, prefix, out)
    elif prefix not in out:
        out[prefix] = value


SKIPPED_FIELDS = {"id", "type", "occurred_at", "order.url", "customer.email", "customer.phone"}


def fields_of(event_type: str) -> dict[str, Any]:
    """Dotted paths a filter on this type can test, with the sample value of each."""
    out: dict[str, Any] = {}
    _paths(sample_event(event_type), "", out)
    return {
        path: value
        for path, value in out.items()
        if path not in SKIPPED_FIELDS and not path.endswith(".id") and not path.endswith(".phone")
    }


def known_type(event_type: str) -> bool:
    return event_type in CATALOG
