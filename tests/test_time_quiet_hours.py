"""Quiet hours (docs/configuration.md): customer notifications are deferred to the end of the window in
the recipient's time zone — never dropped; ``quiet_hours = false`` rules are urgent; staff
are deferred only with ``service.quiet_hours_staff``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import ConfigError
from bot.core.quiet_hours import QuietHours
from bot.keys import DISPATCHER
from tests.conftest import booked
from tests.time_fixtures import clock, service  # noqa: F401

NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")  # UTC+7; the service runs on Moscow time (UTC+3)
EVENING = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 22:00 in Novosibirsk, 18:00 in Moscow
NEXT_MORNING = datetime(2026, 11, 26, 9, 0, tzinfo=NOVOSIBIRSK)

RULES = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]

[[rules]]
name = "booked, customer, urgent"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
quiet_hours = false

[[rules]]
name = "booked, manager"
event = "order_booked"
recipients = ["manager"]
channels = ["internal"]
"""


def siberian(event_id: str) -> dict:
    return booked(
        event_id,
        customer={
            "id": "C-77",
            "name": "Сибиряк",
            "email": "sib@example.ru",
            "timezone": "Asia/Novosibirsk",
        },
        manager={"id": "S-7", "name": "Ольга", "timezone": "Asia/Novosibirsk"},
    )


async def test_quiet_hours_defer_to_the_morning_in_the_customers_zone(service, clock, smtp):
    clock.set(EVENING)
    app = await service(service={"quiet_hours": "21:00-09:00"})
    await app.rules(RULES)
    await app.post(siberian("q-1"))
    rows = {r.rule: r for r in await app.journal()}
    deferred = rows["booked, customer"]
    assert deferred.status == "scheduled" and deferred.due_at == NEXT_MORNING
    assert deferred.plan.quiet_hours == "deferred from 2026-11-25T15:00:00.000Z"
    assert deferred.plan.timezone == "Asia/Novosibirsk"
    await app.wait_rows(lambda rs: all(r.status == "sent" for r in rs if r.rule != deferred.rule))
    assert len(smtp.recorder.by_recipient("sib@example.ru")) == 1  # only the urgent one
    clock.set(NEXT_MORNING - timedelta(seconds=1))
    assert await app.app[DISPATCHER].tick() == 0
    clock.set(NEXT_MORNING)  # deferred, never dropped
    await app.wait_rows(lambda rs: all(r.status == "sent" for r in rs))
    assert len(smtp.recorder.by_recipient("sib@example.ru")) == 2


async def test_a_moscow_customer_is_not_in_quiet_hours_at_18(service, clock, smtp):
    clock.set(EVENING)
    app = await service(service={"quiet_hours": "21:00-09:00"})
    await app.rules(RULES)
    await app.post(booked("q-2"))  # the customer has no zone: the service's (Moscow)
    rows = await app.wait_rows(lambda rs: all(r.status == "sent" for r in rs))
    assert all(r.plan.timezone == "Europe/Moscow" for r in rows if r.recipient_role == "customer")


async def test_staff_deferred_only_when_configured(service, clock):
    clock.set(EVENING)
    app = await service(service={"quiet_hours": "21:00-09:00", "quiet_hours_staff": True})
    await app.rules(RULES)
    await app.post(siberian("q-3"))
    manager = next(r for r in await app.journal() if r.rule == "booked, manager")
    assert manager.status == "scheduled" and manager.due_at == NEXT_MORNING


async def test_a_reminder_falling_in_quiet_hours_moves_to_their_end(service, clock):
    app = await service(service={"quiet_hours": "22:00-08:00"})
    await app.rules("""
[[rules]]
name = "start, 3h before"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email"]
before = "3h"
""")
    await app.post(booked("q-4"))  # start 09:00 Moscow; 06:00 is quiet -> 08:00
    [row] = await app.journal()
    assert row.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.parametrize(
    "window, moment, expected",
    [
        ("21:00-09:00", "2026-11-25T20:59", "2026-11-25T20:59"),
        ("21:00-09:00", "2026-11-25T21:00", "2026-11-26T09:00"),
        ("21:00-09:00", "2026-11-26T03:00", "2026-11-26T09:00"),
        ("21:00-09:00", "2026-11-26T09:00", "2026-11-26T09:00"),
        ("13:00-14:00", "2026-11-26T13:30", "2026-11-26T14:00"),
        ("13:00-14:00", "2026-11-26T23:30", "2026-11-26T23:30"),
    ],
)
def test_the_window_with_and_without_midnight(window, moment, expected):
    tz = ZoneInfo("Europe/Moscow")
    got = QuietHours.parse(window).defer(datetime.fromisoformat(moment).replace(tzinfo=tz), tz)
    assert got == datetime.fromisoformat(expected).replace(tzinfo=tz)


@pytest.mark.parametrize("value", ["25:00-09:00", "21:00", "9pm-9am", "09:00-09:00"])
def test_invalid_quiet_hours_are_rejected_with_the_key(make_config, value):
    with pytest.raises(ConfigError) as info:
        make_config(service={"quiet_hours": value})
    [(key, message)] = info.value.problems
    assert key == "service.quiet_hours" and "21:00-09:00" in message


def test_empty_quiet_hours_mean_none(make_config):
    assert QuietHours.parse(make_config(service={"quiet_hours": " "}).service.quiet_hours) is None
