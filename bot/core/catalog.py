"""The event catalog (docs/events.md) as a table: what each type is and where its anchor time is.

``kind``: ``direct`` (the ERP posts it), ``derived`` (planned when its source arrives),
``source`` (the ERP posts it to start or cancel derived ones), ``directory`` (persons only).
``anchor`` is a dotted path into the event, or ``occurred_at``; ``invoice_due`` (issue time +
N working days) and ``birthday`` (the day at ``schedule.daily_at``) are computed.
``keys``: dotted paths that name the thing a derived type is about (the first one present
wins); a newer source or a cancelling event with the same key replaces or cancels the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    kind: str
    anchor: str = "occurred_at"
    sources: tuple[str, ...] = ()  # derived types: the events that plan them
    cancelled_by: tuple[str, ...] = ()
    title_ru: str = ""
    title_en: str = ""
    tags: tuple[str, ...] = field(default=())
    keys: tuple[str, ...] = ("order.id",)

    @property
    def family(self) -> str:
        """Derived types planned by the same sources share one ordering of events."""
        return self.sources[0] if self.sources else self.name


CATALOG: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            "order_booked",
            "direct",
            title_ru="Заказ-наряд записан на ремонт",
            title_en="Work order booked",
        ),
        EventType(
            "repair_start_reminder",
            "derived",
            "order.planned_start",
            sources=("order_booked", "order_rescheduled"),
            cancelled_by=("order_cancelled", "repair_completed"),
            title_ru="Напоминание о начале ремонта",
            title_en="Repair start reminder",
        ),
        EventType(
            "repair_finish_reminder",
            "derived",
            "order.planned_finish",
            sources=("order_booked", "order_rescheduled"),
            cancelled_by=("order_cancelled", "repair_completed"),
            title_ru="Напоминание об окончании ремонта",
            title_en="Repair finish reminder",
        ),
        EventType(
            "repair_completed", "direct", title_ru="Ремонт завершён", title_en="Repair completed"
        ),
        EventType(
            "supplier_order_placed",
            "direct",
            title_ru="Заказ поставщику размещён",
            title_en="Supplier order placed",
        ),
        EventType(
            "parts_arrived", "direct", title_ru="Поступили запчасти", title_en="Parts arrived"
        ),
        EventType(
            "all_parts_arrived",
            "direct",
            title_ru="Все запчасти поступили",
            title_en="All parts arrived",
        ),
        EventType(
            "payment_received", "direct", title_ru="Получена оплата", title_en="Payment received"
        ),
        EventType(
            "fully_paid", "direct", title_ru="Заказ полностью оплачен", title_en="Fully paid"
        ),
        EventType(
            "customer_order_created",
            "direct",
            title_ru="Новый заказ покупателя",
            title_en="Customer order created",
        ),
        EventType(
            "bonus_changed", "direct", title_ru="Изменение бонусов", title_en="Bonus points changed"
        ),
        EventType(
            "bonus_expiring",
            "direct",
            "data.expires_on",
            title_ru="Сгорание бонусов",
            title_en="Bonus points expiring",
        ),
        EventType("shipped", "direct", title_ru="Заказ отгружен", title_en="Shipped"),
        EventType(
            "maintenance_due",
            "direct",
            "data.due_on",
            title_ru="Плановое ТО",
            title_en="Maintenance due",
        ),
        EventType(
            "insurance_renewal",
            "direct",
            "data.expires_on",
            title_ru="Продление страховки",
            title_en="Insurance renewal",
        ),
        EventType(
            "order_status_changed",
            "direct",
            title_ru="Изменился статус заказа",
            title_en="Order status changed",
        ),
        EventType(
            "task_reminder",
            "derived",
            "data.starts_at",
            sources=("task_scheduled",),
            cancelled_by=("task_done", "task_cancelled"),
            keys=("data.task_id", "order.id"),
            title_ru="Напоминание о задаче",
            title_en="Task reminder",
        ),
        EventType(
            "invoice_unpaid",
            "derived",
            "invoice_due",
            sources=("invoice_issued",),
            cancelled_by=("payment_received", "fully_paid"),
            title_ru="Счёт не оплачен",
            title_en="Invoice unpaid",
        ),
        EventType("birthday", "derived", "birthday", title_ru="День рождения", title_en="Birthday"),
        EventType("invoice_issued", "source", title_ru="Выставлен счёт", title_en="Invoice issued"),
        EventType(
            "task_scheduled", "source", title_ru="Запланирована задача", title_en="Task scheduled"
        ),
        EventType("task_done", "source", title_ru="Задача выполнена", title_en="Task done"),
        EventType(
            "task_cancelled", "source", title_ru="Задача отменена", title_en="Task cancelled"
        ),
        EventType(
            "order_rescheduled", "source", title_ru="Ремонт перенесён", title_en="Order rescheduled"
        ),
        EventType(
            "order_cancelled", "source", title_ru="Заказ отменён", title_en="Order cancelled"
        ),
        EventType(
            "customer_updated",
            "directory",
            title_ru="Данные клиента обновлены",
            title_en="Customer updated",
        ),
        EventType(
            "staff_updated",
            "directory",
            title_ru="Данные сотрудника обновлены",
            title_en="Staff updated",
        ),
    )
}

STAFF_ROLES = ("manager", "master", "author", "responsible")
PERSON_ROLES = ("customer", *STAFF_ROLES)


def derived_from(source_type: str) -> list[EventType]:
    """Derived types a source event plans (``order_booked`` -> the two repair reminders)."""
    return [t for t in CATALOG.values() if source_type in t.sources]


def derived_touched_by(event_type: str) -> list[EventType]:
    """Derived types an event plans, replaces or cancels (``payment_received`` ->
    ``invoice_unpaid``)."""
    return [t for t in CATALOG.values() if event_type in t.sources or event_type in t.cancelled_by]
