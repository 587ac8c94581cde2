"""``invoice_unpaid`` (docs/events.md): N working days after ``invoice_issued`` — weekends and
``schedule.holidays`` skipped — unless a payment for the same order arrived."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.workdays import add_working_days
from bot.keys import DISPATCHER
from bot.pipeline.rule_file import RuleFileError, parse_rules_toml
from tests.time_fixtures import clock, service  # noqa: F401

UNPAID_RULE = """
[[rules]]
name = "unpaid, customer"
event = "invoice_unpaid"
recipients = ["customer"]
channels = ["email"]
working_days = 3
"""
MOSCOW = ZoneInfo("Europe/Moscow")
FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=MOSCOW)
HOLIDAY = "2026-11-30"  # the Monday after


def invoice(event_id: str, order_id: str, occurred_at: str = "2026-11-27T15:00:00") -> dict:
    return {
        "id": event_id,
        "type": "invoice_issued",
        "occurred_at": occurred_at,
        "customer": {"id": "C-5", "name": "Анна", "email": "anna@example.ru"},
        "order": {"id": order_id, "number": f"№{order_id}", "amount": 5000, "currency": "RUB"},
        "data": {"invoice_number": f"INV-{order_id}"},
    }


def payment(event_id: str, order_id: str, occurred_at: str, kind: str = "payment_received") -> dict:
    return {
        "id": event_id,
        "type": kind,
        "occurred_at": occurred_at,
        "order": {"id": order_id},
        "data": {"amount": 5000, "method": "card"},
    }


@pytest.mark.parametrize(
    "start, days, holidays, expected",
    [
        (FRIDAY, 3, [], datetime(2026, 12, 2, 15, 0, tzinfo=MOSCOW)),  # Mon, Tue, Wed
        (FRIDAY, 3, [date(2026, 11, 30)], datetime(2026, 12, 3, 15, 0, tzinfo=MOSCOW)),
        (
            datetime(2026, 11, 28, 11, 0, tzinfo=MOSCOW),
            1,
            [],  # issued on a Saturday
            datetime(2026, 11, 30, 11, 0, tzinfo=MOSCOW),
        ),
        (
            datetime(2026, 12, 31, 12, 0, tzinfo=MOSCOW),
            2,  # over the new-year holidays
            [date(2027, 1, d) for d in (1, 4, 5, 6, 7, 8)],
            datetime(2027, 1, 12, 12, 0, tzinfo=MOSCOW),
        ),
    ],
)
def test_working_days_skip_weekends_and_holidays(start, days, holidays, expected):
    assert add_working_days(start, days, holidays, MOSCOW) == expected.astimezone(UTC)


async def test_unpaid_over_a_weekend_and_a_holiday(service, clock, smtp):
    clock.set(FRIDAY)
    app = await service(schedule={"holidays": [HOLIDAY]})
    await app.rules(UNPAID_RULE)
    status, body = await app.post(invoice("i-1", "ORD-7"))
    assert status == 202 and body["planned"] == 1
    [row] = await app.journal()
    due = datetime(2026, 12, 3, 15, 0, tzinfo=MOSCOW)  # Thursday: Mon was a holiday
    assert (row.event_type, row.status, row.due_at) == ("invoice_unpaid", "scheduled", due)
    clock.set(due - timedelta(seconds=1))
    assert await app.app[DISPATCHER].tick() == 0
    clock.set(due)
    await app.wait_rows(lambda rows: rows[0].status == "sent")
    [mail] = smtp.recorder.by_recipient("anna@example.ru")
    assert "INV-ORD-7" in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize("kind", ["payment_received", "fully_paid"])
async def test_a_payment_cancels_the_unpaid_reminder(service, clock, smtp, kind):
    clock.set(FRIDAY)
    app = await service()
    await app.rules(UNPAID_RULE)
    await app.post(invoice("i-1", "ORD-7"))
    await app.post(invoice("i-2", "ORD-8"))
    await app.post(payment("p-1", "ORD-7", "2026-11-30T10:00:00", kind))
    first, second = await app.journal()
    assert first.status == "cancelled" and first.reason == f"cancelled by {kind} p-1"
    assert second.status == "scheduled"  # another order's invoice is still unpaid
    clock.set(datetime(2026, 12, 3, tzinfo=UTC))
    await app.wait_rows(lambda rows: rows[1].status == "sent")
    assert smtp.recorder.by_recipient("anna@example.ru") and len(smtp.recorder.messages) == 1


async def test_a_payment_posted_before_its_invoice_still_counts(service, clock, smtp):
    clock.set(FRIDAY + timedelta(hours=1))
    app = await service()
    await app.rules(UNPAID_RULE)
    await app.post(payment("p-1", "ORD-7", "2026-11-27T15:30:00"))  # paid at 15:30
    await app.post(invoice("i-1", "ORD-7", "2026-11-27T15:00:00"))  # issued 15:00, posted late
    [row] = await app.journal()
    assert row.status == "cancelled" and row.reason.startswith("out of order: payment_received p-1")
    # a later invoice on the same order is a new debt
    await app.post(invoice("i-2", "ORD-7", "2026-11-27T16:00:00"))
    assert (await app.journal())[1].status == "scheduled"


async def test_invoice_posted_after_its_due_day_is_sent_at_once(service, clock, smtp):
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=MOSCOW))
    app = await service()
    await app.rules(UNPAID_RULE)
    await app.post(invoice("i-1", "ORD-7"))
    [row] = await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert row.plan.late.startswith("late: due 2026-12-02 15:00 Europe/Moscow")


def test_working_days_only_for_invoice_unpaid():
    with pytest.raises(RuleFileError, match="working_days applies to invoice_unpaid only"):
        parse_rules_toml(UNPAID_RULE.replace('"invoice_unpaid"', '"order_booked"'))
    with pytest.raises(RuleFileError, match="working_days"):
        parse_rules_toml(UNPAID_RULE.replace("working_days = 3", "working_days = 0"))
