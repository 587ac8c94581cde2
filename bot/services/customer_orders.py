"""A customer's orders as the stored events tell them: ``/orders`` for the customer, the
context header staff see above a customer's message, and who at the service handles the
order (responsible, else manager, else master).

Events of one order may be partial (a status change carries only the order id and the new
status), so the payloads are merged in time order, as the planner merges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.catalog import CATALOG
from bot.core.texts import t
from storage.base import Tx

HANDLER_ROLES = ("responsible", "manager", "master")  # who answers for an order, in order


@dataclass(slots=True)
class OrderSummary:
    order_id: str
    number: str
    status: str | None  # the ERP's own words, when it sent them
    last_event: str
    first_seen: datetime
    last_seen: datetime
    planned_start: str | None = None
    planned_finish: str | None = None
    amount: str | None = None
    paid: str | None = None
    currency: str | None = None
    staff: dict[str, str] = field(default_factory=dict)  # role -> staff id

    def status_words(self, lang: str) -> str:
        if self.status:
            return self.status
        kind = CATALOG.get(self.last_event)
        if kind is None:
            return self.last_event
        return (kind.title_en if lang == "en" else kind.title_ru) or self.last_event


async def customer_orders(tx: Tx, customer_id: str) -> list[OrderSummary]:
    """Newest first (by the order's latest event)."""
    orders: dict[str, OrderSummary] = {}
    for event in await tx.customer_order_events(customer_id):
        if not event.order_id:
            continue
        payload = event.payload
        order: dict[str, Any] = payload.get("order") or {}
        summary = orders.get(event.order_id)
        if summary is None:
            summary = orders[event.order_id] = OrderSummary(
                order_id=event.order_id,
                number=event.order_number or event.order_id,
                status=None,
                last_event=event.type,
                first_seen=event.occurred_at,
                last_seen=event.occurred_at,
            )
        _merge(summary, event.type, event.occurred_at, order, payload)
    return sorted(orders.values(), key=lambda o: o.last_seen, reverse=True)


def _merge(
    summary: OrderSummary,
    event_type: str,
    occurred_at: datetime,
    order: dict[str, Any],
    payload: dict[str, Any],
) -> None:
    summary.last_event = event_type
    summary.last_seen = max(summary.last_seen, occurred_at)
    if order.get("number"):
        summary.number = str(order["number"])
    if order.get("status"):
        summary.status = str(order["status"])
    for name in ("planned_start", "planned_finish", "amount", "paid", "currency"):
        if order.get(name) is not None:
            setattr(summary, name, str(order[name]))
    for role in HANDLER_ROLES:
        person = payload.get(role)
        if isinstance(person, dict) and person.get("id"):
            summary.staff[role] = str(person["id"])


def handler_ids(order: OrderSummary) -> list[str]:
    """The staff ids that answer for the order: responsible, else manager, else master."""
    return [order.staff[role] for role in HANDLER_ROLES if role in order.staff]


def when(value: str | None, zone: ZoneInfo, lang: str) -> str:
    """A stored planned time in the service's zone, or a dash."""
    if not value:
        return t("orders.unknown", lang)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%d.%m.%Y %H:%M")


def money(value: str | None, currency: str | None, lang: str) -> str:
    if value is None:
        return t("orders.unknown", lang)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return value
    text = f"{amount:,.2f}".replace(",", " ")
    return f"{text} {currency or ''}".strip()


def order_line(order: OrderSummary, zone: ZoneInfo, lang: str) -> str:
    """One order of ``/orders`` (HTML, every value escaped)."""
    return t(
        "orders.line",
        lang,
        number=order.number,
        status=order.status_words(lang),
        start=when(order.planned_start, zone, lang),
        finish=when(order.planned_finish, zone, lang),
        amount=money(order.amount, order.currency, lang),
        paid=money(order.paid, order.currency, lang),
    )


def order_context(order: OrderSummary | None, zone: ZoneInfo, lang: str) -> str:
    """The header's order line for staff."""
    if order is None:
        return t("conv.no_order", lang)
    return t(
        "conv.order",
        lang,
        number=order.number,
        status=order.status_words(lang),
        start=when(order.planned_start, zone, lang),
        finish=when(order.planned_finish, zone, lang),
    )
