"""A row planned ahead resolves its recipient again when it falls due (docs/events.md, seed 004:
"add the address later and the reminder goes to it"): a new e-mail is used, a customer
without any address yet is reached once the ERP sends one, a customer who still has none
is skipped with the reason, and the channel order of a `delivery = "first"` rule is
applied again at that moment."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import StopEntry
from tests.conftest import booked
from tests.time_fixtures import START, clock, service  # noqa: F401

REMINDER = """
[[rules]]
name = "repair start, customer, 2h before"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["sms", "email"]
before = "2h"
"""
DUE = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # booked(): 09:00 Moscow, 2 h before
NO_EMAIL = {"id": "C-001", "name": "Иван Петров"}


def customer_updated(event_id: str, **customer: str) -> dict:
    return {
        "id": event_id,
        "type": "customer_updated",
        "customer": {"id": "C-001", "name": "Иван Петров", **customer},
    }


async def test_a_reminder_goes_to_the_email_the_customer_gave_later(service, clock, smtp):
    app = await service()
    await app.rules(REMINDER)
    await app.post(booked("b-1", customer=NO_EMAIL))
    rows = await app.journal()
    waiting = [row for row in rows if row.status == "scheduled"]
    assert len(waiting) == 1 and waiting[0].address is None and waiting[0].due_at == DUE
    assert waiting[0].reason.endswith("looked up again when due")

    await app.post(customer_updated("u-1", email="ivan.new@example.ru"))
    clock.set(DUE)

    rows = await app.wait_rows(lambda rows: any(r.status == "sent" for r in rows))
    [sent] = [row for row in rows if row.status == "sent"]
    assert sent.id == waiting[0].id and sent.channel == "email"
    assert sent.address == "ivan.new@example.ru" and "27.11.2026" in sent.text
    assert len(smtp.recorder.by_recipient("ivan.new@example.ru")) == 1


async def test_a_customer_still_without_an_address_is_skipped_when_due(service, clock, smtp):
    app = await service()
    await app.rules(REMINDER)
    await app.post(booked("b-2", customer=NO_EMAIL))
    [waiting] = [row for row in await app.journal() if row.status == "scheduled"]

    clock.set(DUE)

    rows = await app.wait_rows(
        lambda rows: next(r for r in rows if r.id == waiting.id).status == "skipped"
    )
    row = next(r for r in rows if r.id == waiting.id)
    assert row.reason.startswith("no address") and row.sent_at is None
    assert smtp.recorder.messages == []


async def test_a_changed_email_is_used_when_the_reminder_falls_due(service, clock, smtp):
    app = await service()
    await app.rules(REMINDER)
    await app.post(booked("b-3"))  # ivan@example.ru; no SMS portal, so e-mail is first usable
    [planned] = [row for row in await app.journal() if row.status == "scheduled"]
    assert planned.address == "ivan@example.ru"

    await app.post(customer_updated("u-3", email="ivan@work.example.ru"))
    clock.set(DUE)

    rows = await app.wait_rows(
        lambda rows: next(r for r in rows if r.id == planned.id).status == "sent"
    )
    assert next(r for r in rows if r.id == planned.id).address == "ivan@work.example.ru"
    assert smtp.recorder.by_recipient("ivan@example.ru") == []
    assert len(smtp.recorder.by_recipient("ivan@work.example.ru")) == 1


async def test_a_stop_list_entry_added_after_planning_stops_the_reminder(service, clock, smtp):
    app = await service()
    await app.rules(REMINDER)
    await app.post(booked("b-4"))
    [planned] = [row for row in await app.journal() if row.status == "scheduled"]
    await app.storage.write(
        lambda tx: tx.add_stop(
            StopEntry(who_kind="email", who="ivan@example.ru", reason="asked not to", author="test")
        )
    )
    clock.set(DUE)

    rows = await app.wait_rows(
        lambda rows: next(r for r in rows if r.id == planned.id).status == "stopped"
    )
    assert next(r for r in rows if r.id == planned.id).reason.startswith("stop list entry")
    assert smtp.recorder.messages == []
