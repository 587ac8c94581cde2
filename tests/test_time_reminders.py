"""Anchored and derived reminders (docs/events.md, docs/rules.md timing keys) on a clock the test controls:
a reminder fires at its time and not before, rescheduling moves it, cancellation stops it,
events out of order do not undo newer ones, late bookings are sent at once or skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.config import ConfigError
from bot.keys import DISPATCHER
from bot.pipeline.rule_file import RuleFileError, parse_rules_toml
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.time_fixtures import START, clock, service  # noqa: F401

START_REMINDER = """
[[rules]]
name = "repair start, customer, 2h before"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email"]
before = "2h"
"""
FINISH_REMINDER = """
[[rules]]
name = "repair finish, manager, at the time"
event = "repair_finish_reminder"
recipients = ["manager"]
channels = ["internal"]
"""
TASK_REMINDER = """
[[rules]]
name = "task, responsible, 15m before"
event = "task_reminder"
recipients = ["responsible"]
channels = ["internal"]
before = "15m"
"""
# booked(): planned_start 2026-11-27 09:00 Moscow = 06:00Z; 2 h before = 04:00Z
DUE = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def rescheduled(event_id: str, occurred_at: str, planned_start: str) -> dict:
    return {
        "id": event_id,
        "type": "order_rescheduled",
        "occurred_at": occurred_at,
        "order": {"id": "ORD-1", "planned_start": planned_start},
    }


def cancelled(event_id: str, occurred_at: str, kind: str = "order_cancelled") -> dict:
    return {"id": event_id, "type": kind, "occurred_at": occurred_at, "order": {"id": "ORD-1"}}


async def test_reminder_fires_at_its_time_and_not_before(service, clock, smtp):
    app = await service()
    await app.rules(START_REMINDER)
    status, body = await app.post(booked("b-1"))
    assert status == 202 and body["planned"] == 1
    [row] = await app.journal()
    assert (row.event_type, row.status, row.due_at) == ("repair_start_reminder", "scheduled", DUE)
    assert row.address == "ivan@example.ru" and "27.11.2026" in row.text
    clock.set(DUE - timedelta(seconds=1))
    assert await app.app[DISPATCHER].tick() == 0
    assert (await app.journal())[0].status == "scheduled"
    assert smtp.recorder.messages == []
    clock.set(DUE)
    [row] = await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert row.sent_at >= DUE
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1


async def test_a_reminder_without_offset_is_due_at_the_anchor(service, clock):
    app = await service()
    await app.rules(FINISH_REMINDER)
    await app.post(
        booked(
            "f-1", order={"id": "ORD-1", "number": "ЗН-1", "planned_finish": "2026-11-28T18:00:00"}
        )
    )
    [row] = await app.journal()
    assert row.event_type == "repair_finish_reminder" and row.recipient_role == "manager"
    assert row.due_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC) and row.status == "scheduled"


async def test_rescheduling_moves_the_reminder(service, clock, smtp):
    app = await service()
    await app.rules(START_REMINDER)
    await app.post(booked("b-1"))
    # the ERP repeats only what changed: the order and its new start
    status, body = await app.post(
        rescheduled("r-1", "2026-11-25T11:00:00+03:00", "2026-11-28T12:00:00")
    )
    assert status == 202 and body["planned"] == 1
    old, new = await app.journal()
    assert old.status == "cancelled" and old.reason == "replaced by order_rescheduled r-1"
    assert new.status == "scheduled" and new.event_id == "r-1"
    assert new.due_at == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    assert new.address == "ivan@example.ru" and "28.11.2026" in new.text  # new time, new text
    clock.set(DUE + timedelta(minutes=1))  # the old time passes: nothing goes out
    assert await app.app[DISPATCHER].tick() == 0
    clock.set(new.due_at)
    await app.wait_rows(lambda rows: rows[1].status == "sent")
    [mail] = smtp.recorder.by_recipient("ivan@example.ru")
    assert "28.11.2026" in mail.get_body(("plain",)).get_content()
    # booked again with a new start replaces as well
    await app.post(
        booked(
            "b-2",
            occurred_at="2026-11-25T12:00:00+03:00",
            order={"id": "ORD-1", "number": "ЗН-000123", "planned_start": "2026-12-01T10:00:00"},
        )
    )
    rows = await app.journal()
    assert rows[1].status == "sent" and rows[2].status == "scheduled"


@pytest.mark.parametrize("kind", ["order_cancelled", "repair_completed"])
async def test_cancellation_stops_the_reminder(service, clock, smtp, kind):
    app = await service()
    await app.rules(START_REMINDER + FINISH_REMINDER)
    await app.post(
        booked(
            "b-1",
            order={
                "id": "ORD-1",
                "planned_start": "2026-11-27T09:00:00",
                "planned_finish": "2026-11-27T18:00:00",
            },
        )
    )
    status, body = await app.post(cancelled("c-1", "2026-11-26T10:00:00+03:00", kind))
    assert status == 202 and body["planned"] == 0
    rows = await app.journal()
    assert [r.status for r in rows] == ["cancelled", "cancelled"]
    assert {r.reason for r in rows} == {f"cancelled by {kind} c-1"}
    clock.set(datetime(2026, 11, 28, tzinfo=UTC))
    assert await app.app[DISPATCHER].tick() == 0
    assert smtp.recorder.messages == []


async def test_task_reminder_and_its_cancellation(service, clock):
    app = await service()
    await app.rules(TASK_REMINDER)
    task = {
        "id": "t-1",
        "type": "task_scheduled",
        "occurred_at": "2026-11-25T10:00:00+03:00",
        "responsible": {"id": "S-9", "name": "Пётр"},
        "data": {
            "task_id": "T-1",
            "title": "Позвонить клиенту",
            "starts_at": "2026-11-25T15:00:00",
        },
    }
    await app.post(task)
    [row] = await app.journal()
    assert row.due_at == datetime(2026, 11, 25, 11, 45, tzinfo=UTC)
    await app.post(
        {
            **task,
            "id": "t-2",
            "data": {
                "task_id": "T-2",
                "title": "Отправить счёт",
                "starts_at": "2026-11-25T16:00:00",
            },
        }
    )
    await app.post(
        {
            "id": "d-1",
            "type": "task_done",
            "occurred_at": "2026-11-25T10:30:00+03:00",
            "data": {"task_id": "T-1"},
        }
    )
    first, second = await app.journal()
    assert first.status == "cancelled" and first.reason == "cancelled by task_done d-1"
    assert second.status == "scheduled"  # another task is not touched
    clock.set(datetime(2026, 11, 25, 12, 45, tzinfo=UTC))
    await app.wait_rows(lambda rows: rows[1].status == "sent")
    async with app.storage.reader() as tx:
        [item] = await tx.list_inbox("S-9")
    assert "Отправить счёт" in item.text


async def test_an_older_event_arriving_late_does_not_undo_a_newer_one(service, clock):
    app = await service()
    await app.rules(START_REMINDER)
    await app.post(booked("b-1", occurred_at="2026-11-25T10:00:00+03:00"))
    await app.post(rescheduled("r-2", "2026-11-25T12:00:00+03:00", "2026-11-28T12:00:00"))
    # an earlier reschedule, delayed in the ERP's queue, arrives after the newer one
    await app.post(rescheduled("r-1", "2026-11-25T11:00:00+03:00", "2026-11-29T12:00:00"))
    # a cancellation older than the booking in force does not cancel it either
    await app.post(cancelled("c-0", "2026-11-25T09:00:00+03:00"))
    rows = await app.journal()
    assert [(r.event_id, r.status) for r in rows] == [
        ("b-1", "cancelled"),
        ("r-2", "scheduled"),
        ("r-1", "cancelled"),
    ]
    assert rows[2].reason.startswith("out of order: order_rescheduled r-2")
    assert rows[1].due_at == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    # and a booking older than a cancellation already applied plans nothing that is sent
    await app.post(cancelled("c-1", "2026-11-25T13:00:00+03:00"))
    await app.post(booked("b-0", occurred_at="2026-11-25T08:00:00+03:00"))
    rows = await app.journal()
    assert rows[1].status == "cancelled" and rows[1].reason == "cancelled by order_cancelled c-1"
    assert rows[-1].event_id == "b-0" and rows[-1].status == "cancelled"


async def test_late_booking_is_sent_at_once_while_the_anchor_is_ahead(service, clock, smtp):
    clock.set(datetime(2026, 11, 27, 5, 30, tzinfo=UTC))  # 08:30 Moscow, start at 09:00
    app = await service()
    await app.rules(START_REMINDER)
    await app.post(booked("late-1"))
    [row] = await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert row.due_at == clock.now()
    assert row.plan.late.startswith("late: due 2026-11-27 07:00 Europe/Moscow")
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1


async def test_booking_after_the_start_is_skipped_with_reason(service, clock, smtp):
    clock.set(datetime(2026, 11, 27, 6, 30, tzinfo=UTC))  # 09:30 Moscow: the repair began
    app = await service()
    await app.rules(START_REMINDER)
    await app.post(booked("missed-1"))
    [row] = await app.journal()
    assert row.status == "skipped"
    assert (
        row.reason
        == "missed: order.planned_start 2026-11-27 09:00 Europe/Moscow has already passed"
    )
    assert row.text  # rendered all the same: the journal shows what would have gone out


async def test_a_reminder_without_its_anchor_is_skipped_with_reason(service, clock):
    app = await service()
    await app.rules(START_REMINDER)
    await app.post(booked("na-1", order={"id": "ORD-1", "number": "ЗН-1"}))
    [row] = await app.journal()
    assert row.status == "skipped" and row.reason == "no order.planned_start in the event"


async def test_after_on_a_direct_type_counts_from_when_it_happened(service, clock):
    app = await service()
    await app.rules(
        CUSTOMER_EMAIL_RULE.replace('name = "booked, customer"', 'name = "survey"')
        + 'after = "90m"\n'
    )
    await app.post(booked("s-1"))
    [row] = await app.journal()
    assert row.due_at == datetime(2026, 11, 25, 8, 30, tzinfo=UTC) and row.status == "scheduled"


async def test_a_posted_type_with_a_date_anchor(service, clock):
    app = await service()
    await app.rules("""
[[rules]]
name = "bonus, 3 days before"
event = "bonus_expiring"
recipients = ["customer"]
channels = ["email"]
before = "3d"

[[rules]]
name = "bonus, at once"
event = "bonus_expiring"
recipients = ["customer"]
channels = ["email"]
""")
    await app.post(
        {
            "id": "bx-1",
            "type": "bonus_expiring",
            "occurred_at": START.isoformat(),
            "customer": {"id": "C-1", "email": "ivan@example.ru"},
            "data": {"amount": 500, "expires_on": "2026-12-10"},
        }
    )
    timed, at_once = await app.journal()
    # the date's day at schedule.daily_at (10:00 Moscow), three days earlier
    assert timed.due_at == datetime(2026, 12, 7, 7, 0, tzinfo=UTC) and timed.status == "scheduled"
    assert at_once.due_at == START


@pytest.mark.parametrize(
    "value, problem", [("2x", "not a duration"), ("-2h", "not a duration"), ("", "not a duration")]
)
def test_bad_durations_are_rejected_with_the_key(value, problem):
    with pytest.raises(RuleFileError) as info:
        parse_rules_toml(START_REMINDER.replace('before = "2h"', f'before = "{value}"'))
    assert "before" in str(info.value) and problem in str(info.value)


def test_before_and_after_together_are_rejected():
    with pytest.raises(RuleFileError, match="set before or after, not both"):
        parse_rules_toml(START_REMINDER + 'after = "1h"\n')


@pytest.mark.parametrize(
    "schedule, key",
    [
        ({"daily_at": "7pm"}, "schedule.daily_at"),
        ({"holidays": ["2026-13-01"]}, "schedule.holidays"),
    ],
)
def test_bad_schedule_config_names_the_key(make_config, schedule, key):
    with pytest.raises(ConfigError) as info:
        make_config(schedule=schedule)
    assert any(k.startswith(key) for k, _ in info.value.problems)


def test_start_is_the_booking_moment():
    assert START == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
