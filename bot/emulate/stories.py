"""Coherent stories of events as a 1C base posts them, with fresh ids for every run.

A story is the life of one thing in the ERP: a work order (booked, rescheduled, parts ordered
and arriving, completed, paid), an invoice left unpaid, a customer whose birthday is today,
a shop order shipped, a task done, a staff card updated. Names are Russian, phones are in the
forms 1C stores them, business times are naive local times (the service applies its zone).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

Event = dict[str, Any]

SURNAMES = (
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Алексеев",
)
FIRST_NAMES = ("Иван", "Пётр", "Алексей", "Сергей", "Дмитрий", "Андрей", "Михаил", "Олег")
PATRONYMICS = ("Иванович", "Петрович", "Сергеевич", "Александрович", "Михайлович")
STAFF = (
    ("S-01", "Ольга Смирнова", "+7 916 000-00-01"),
    ("S-02", "Мастер Виктор Орлов", "8 (926) 000-00-02"),
    ("S-03", "Анна Белова", "89030000003"),
)
CARS = (
    ("Lada", "Vesta"),
    ("Kia", "Rio"),
    ("Hyundai", "Solaris"),
    ("Renault", "Logan"),
    ("Volkswagen", "Polo"),
    ("Skoda", "Octavia"),
)
PARTS = (
    ("0986452041", "Фильтр масляный", 650),
    ("0451103316", "Фильтр масляный Bosch", 720),
    ("13.0460-7184.2", "Колодки тормозные передние", 2900),
    ("SP-1011", "Свеча зажигания", 480),
    ("LM-2241", "Масло моторное 5W-40, 4 л", 3400),
)
PLATE_LETTERS = "АВЕКМНОРСТУХ"


def phone_as_1c(rng: random.Random) -> str:
    """A Russian mobile number in one of the forms found in 1C contact information."""
    code, a, b, c = (
        rng.randint(900, 999),
        rng.randint(100, 999),
        rng.randint(10, 99),
        rng.randint(10, 99),
    )
    forms = (
        f"8 ({code}) {a}-{b}-{c}",
        f"+7 {code} {a}-{b}-{c}",
        f"8{code}{a}{b}{c}",
        f"+7({code}){a}{b}{c}",
        f"8-{code}-{a}-{b}-{c}",
    )
    return rng.choice(forms)


def local(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


class StoryMaker:
    """Makes stories; ``now`` is the service's local wall time (naive), ``run`` makes ids fresh."""

    def __init__(self, rng: random.Random, run: str, now: datetime) -> None:
        self.rng = rng
        self.run = run
        self.now = now
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _customer(self, n: int, **extra: Any) -> dict[str, Any]:
        rng = self.rng
        surname, first = rng.choice(SURNAMES), rng.choice(FIRST_NAMES)
        person = {
            "id": f"emu-{self.run}-C{n}",
            "name": f"{surname} {first} {rng.choice(PATRONYMICS)}",
            "phone": phone_as_1c(rng),
        }
        if rng.random() < 0.6:
            person["email"] = f"client{n}.{self.run}@example.ru"
        return {**person, **extra}

    def _staff(self) -> dict[str, str]:
        staff_id, name, phone = self.rng.choice(STAFF)
        return {"id": staff_id, "name": name, "phone": phone}

    def _stamp(self, events: list[Event]) -> list[Event]:
        """occurred_at strictly increasing within the story, the last one a second ago."""
        for back, event in enumerate(reversed(events), 1):
            event["occurred_at"] = local(self.now - timedelta(seconds=back))
        return events

    def _items(self) -> list[dict[str, Any]]:
        picked = self.rng.sample(PARTS, self.rng.randint(1, 3))
        return [
            {"sku": sku, "name": name, "qty": self.rng.randint(1, 4), "price": price}
            for sku, name, price in picked
        ]

    def repair(self) -> list[Event]:
        n = self._next()
        rng = self.rng
        base = f"emu-{self.run}-{n}"
        start = (self.now + timedelta(days=rng.randint(1, 6))).replace(
            hour=rng.randint(9, 17), minute=rng.choice((0, 30)), second=0, microsecond=0
        )
        moved = start + timedelta(days=1)
        make, model = rng.choice(CARS)
        items = self._items()
        amount = sum(i["qty"] * i["price"] for i in items) + 2500
        order = {
            "id": f"{base}-O",
            "number": f"ЗН-{n:06d}",
            "amount": amount,
            "currency": "RUB",
            "planned_start": local(start),
            "planned_finish": local(start + timedelta(hours=4)),
        }
        people = {"customer": self._customer(n), "manager": self._staff()}
        vehicle = {
            "make": make,
            "model": model,
            "plate": f"{rng.choice(PLATE_LETTERS)}{rng.randint(100, 999)}"
            f"{rng.choice(PLATE_LETTERS)}{rng.choice(PLATE_LETTERS)}77",
        }

        def event(step: str, kind: str, **fields: Any) -> Event:
            return {
                "id": f"{base}-{step}",
                "type": kind,
                **people,
                "order": {**order, **fields.pop("order", {})},
                **fields,
            }

        return self._stamp(
            [
                event("booked", "order_booked", vehicle=vehicle, items=items),
                event(
                    "moved",
                    "order_rescheduled",
                    order={
                        "planned_start": local(moved),
                        "planned_finish": local(moved + timedelta(hours=4)),
                    },
                ),
                event("supplier", "supplier_order_placed", items=items),
                event("parts1", "parts_arrived", items=items[:1]),
                event("parts", "all_parts_arrived", items=items),
                event("done", "repair_completed", vehicle=vehicle, master=self._staff()),
                event("pay", "payment_received", order={"paid": amount}, data={"method": "card"}),
                event("paid", "fully_paid", order={"paid": amount}),
            ]
        )

    def unpaid_invoice(self) -> list[Event]:
        n = self._next()
        base = f"emu-{self.run}-{n}"
        amount = self.rng.randint(20, 300) * 100
        return self._stamp(
            [
                {
                    "id": f"{base}-invoice",
                    "type": "invoice_issued",
                    "customer": self._customer(n),
                    "manager": self._staff(),
                    "order": {
                        "id": f"{base}-INV",
                        "number": f"СЧ-{n:06d}",
                        "amount": amount,
                        "currency": "RUB",
                    },
                }
            ]
        )

    def birthday(self) -> list[Event]:
        n = self._next()
        born = f"{self.rng.randint(1960, 2000)}-{self.now:%m-%d}"
        return self._stamp(
            [
                {
                    "id": f"emu-{self.run}-{n}-card",
                    "type": "customer_updated",
                    "customer": self._customer(n, birthday=born),
                }
            ]
        )

    def shop_order(self) -> list[Event]:
        n = self._next()
        base = f"emu-{self.run}-{n}"
        items = self._items()
        order = {
            "id": f"{base}-CO",
            "number": f"ЗК-{n:06d}",
            "currency": "RUB",
            "amount": sum(i["qty"] * i["price"] for i in items),
        }
        customer = self._customer(n)
        return self._stamp(
            [
                {
                    "id": f"{base}-created",
                    "type": "customer_order_created",
                    "customer": customer,
                    "order": order,
                    "items": items,
                },
                {
                    "id": f"{base}-shipped",
                    "type": "shipped",
                    "customer": customer,
                    "order": order,
                    "items": items,
                },
            ]
        )

    def task(self) -> list[Event]:
        n = self._next()
        base = f"emu-{self.run}-{n}"
        starts = (self.now + timedelta(days=self.rng.randint(1, 3))).replace(
            hour=11, minute=0, second=0, microsecond=0
        )
        data = {
            "task_id": f"{base}-T",
            "title": "Перезвонить клиенту по ТО",
            "starts_at": local(starts),
        }
        responsible = self._staff()
        return self._stamp(
            [
                {
                    "id": f"{base}-task",
                    "type": "task_scheduled",
                    "responsible": responsible,
                    "customer": self._customer(n),
                    "data": data,
                },
                {
                    "id": f"{base}-task-done",
                    "type": "task_done",
                    "responsible": responsible,
                    "data": {"task_id": data["task_id"]},
                },
            ]
        )

    def staff_card(self) -> list[Event]:
        n = self._next()
        staff_id, name, phone = self.rng.choice(STAFF)
        return self._stamp(
            [
                {
                    "id": f"emu-{self.run}-{n}-staff",
                    "type": "staff_updated",
                    "manager": {"id": staff_id, "name": name, "phone": phone},
                }
            ]
        )

    def makers(self) -> list[tuple[float, Callable[[], list[Event]]]]:
        """Story kinds with their share of the stream."""
        return [
            (0.40, self.repair),
            (0.20, self.unpaid_invoice),
            (0.10, self.birthday),
            (0.15, self.shop_order),
            (0.10, self.task),
            (0.05, self.staff_card),
        ]


STORY_TYPES = frozenset(
    {
        "order_booked",
        "order_rescheduled",
        "supplier_order_placed",
        "parts_arrived",
        "all_parts_arrived",
        "repair_completed",
        "payment_received",
        "fully_paid",
        "invoice_issued",
        "customer_updated",
        "customer_order_created",
        "shipped",
        "task_scheduled",
        "task_done",
        "staff_updated",
    }
)


def make_stories(count: int, types: frozenset[str] | None, maker: StoryMaker) -> list[list[Event]]:
    """Stories holding ``count`` events in all, only of ``types`` when given."""
    weights, kinds = zip(*maker.makers(), strict=True)
    stories: list[list[Event]] = []
    total = 0
    while total < count:
        story = maker.rng.choices(kinds, weights)[0]()
        if types is not None:
            story = [e for e in story if e["type"] in types]
        story = story[: count - total]
        if story:
            stories.append(story)
            total += len(story)
    return stories
