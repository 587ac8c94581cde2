"""The daily birthday job (docs/events.md ``birthday``): once per customer per year, across restarts,
catching up after downtime; run by APScheduler at ``schedule.daily_at``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.keys import SCHEDULER
from bot.periodic import birthday_job
from bot.pipeline.birthdays import days_to_scan, month_days
from tests.time_fixtures import clock, service  # noqa: F401

MOSCOW = ZoneInfo("Europe/Moscow")
GREETING = """
[[rules]]
name = "birthday, customer"
event = "birthday"
recipients = ["customer"]
channels = ["email"]
"""


def directory(*customers: tuple[str, str, str]) -> dict:
    """A customer_updated batch as the ERP syncs its directory."""
    return {
        "events": [
            {
                "id": f"cu-{cid}",
                "type": "customer_updated",
                "customer": {"id": cid, "name": f"Клиент {cid}", "email": email, "birthday": born},
            }
            for cid, email, born in customers
        ]
    }


def moscow(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=MOSCOW)


async def greetings(app) -> list[tuple[str, str, str]]:
    rows = await app.journal(event_type="birthday")
    return [(r.recipient_id, r.event_id, r.status) for r in rows]


async def test_birthday_once_a_year_across_restarts_and_downtime(service, clock, smtp):
    clock.set(moscow(2026, 11, 25, 9, 0))  # before daily_at 10:00
    app = await service()
    assert app.app[SCHEDULER].get_job("birthdays").trigger.fields[5].expressions[0].first == 10
    await app.rules(GREETING)
    status, body = await app.post(
        directory(
            ("C-1", "c1@example.ru", "1990-11-25"),
            ("C-2", "c2@example.ru", "1985-11-27"),
            ("C-3", "c3@example.ru", "--11-26"),
        )
    )
    assert status == 202 and body["planned"] == 0  # directory sync plans nothing
    assert await birthday_job(app.app) == 0  # 10:00 not reached yet
    clock.set(moscow(2026, 11, 25, 10, 0))
    assert await birthday_job(app.app) == 1
    await app.wait_rows(lambda rows: [r.status for r in rows] == ["sent"], event_type="birthday")
    assert await birthday_job(app.app) == 0  # the same day again: nothing
    await service.stop(app)

    app = await service()  # a restart the same day: the catch-up finds nothing new
    assert await greetings(app) == [("C-1", "birthday:C-1:2026", "sent")]
    async with app.storage.transaction() as tx:  # even a forgotten scan mark greets once
        await tx.set_meta("daily.birthdays.last_day", "2026-11-20")
    assert await birthday_job(app.app) == 0
    await service.stop(app)

    clock.set(moscow(2026, 11, 28, 11, 0))  # three days down; C-3 (26th), C-2 (27th) missed
    app = await service()
    rows = await app.wait_rows(
        lambda rows: len(rows) == 3 and all(r.status == "sent" for r in rows), event_type="birthday"
    )
    assert [r.recipient_id for r in rows] == ["C-1", "C-3", "C-2"]
    assert len(smtp.recorder.by_recipient("c1@example.ru")) == 1
    assert len(smtp.recorder.by_recipient("c2@example.ru")) == 1
    await service.stop(app)

    clock.set(moscow(2027, 11, 25, 10, 30))  # next year: greeted again, once
    app = await service()
    await app.wait_rows(
        lambda rows: len(rows) == 4 and all(r.status == "sent" for r in rows), event_type="birthday"
    )
    assert len(smtp.recorder.by_recipient("c1@example.ru")) == 2
    assert ("C-1", "birthday:C-1:2027", "sent") in await greetings(app)


async def test_no_birthday_rule_no_greetings_and_no_backlog(service, clock):
    clock.set(moscow(2026, 11, 25, 12, 0))
    app = await service()
    await app.post(directory(("C-1", "c1@example.ru", "1990-11-25")))
    assert await birthday_job(app.app) == 0
    await app.rules(GREETING)  # a rule added later does not greet days already scanned
    assert await birthday_job(app.app) == 0
    assert await greetings(app) == []


def test_scan_window():
    at = datetime(2026, 1, 1, 10, 0).time()
    now = moscow(2026, 11, 28, 11, 0)
    assert days_to_scan(None, now, at) == [date(2026, 11, 28)]
    assert days_to_scan(date(2026, 11, 25), now, at) == [
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 28),
    ]
    assert days_to_scan(date(2026, 11, 27), moscow(2026, 11, 28, 9, 59), at) == []
    assert len(days_to_scan(date(2026, 1, 1), now, at)) == 7  # catch-up is bounded


def test_leap_day_birthdays_are_greeted_on_the_28th():
    assert month_days(date(2027, 2, 28)) == ["02-28", "02-29"]
    assert month_days(date(2028, 2, 28)) == ["02-28"]
