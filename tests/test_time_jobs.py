"""Periodic jobs on the app's APScheduler : registered at start, stopped with the
app; lease recovery and retention do their work when run."""

from __future__ import annotations

from datetime import timedelta

from bot.keys import CATCH_UP, SCHEDULER
from bot.periodic import purge_journal, recover_leases
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.time_fixtures import clock, service  # noqa: F401


async def test_jobs_are_registered_and_stop_with_the_app(service, clock):
    app = await service(schedule={"daily_at": "07:30"})
    scheduler = app.app[SCHEDULER]
    assert {job.id for job in scheduler.get_jobs()} >= {
        "birthdays",
        "leases",
        "retention",
        "channels",
    }
    assert str(scheduler.get_job("birthdays").trigger) == "cron[hour='7', minute='30']"
    assert scheduler.get_job("leases").trigger.interval == timedelta(seconds=15)
    assert app.app[CATCH_UP].done()
    await service.stop(app)
    assert not scheduler.running


async def test_lease_recovery_job_returns_a_dead_senders_row(service, clock, smtp):
    app = await service()
    await app.rules(
        CUSTOMER_EMAIL_RULE.replace('"order_booked"', '"repair_start_reminder"') + 'before = "2h"\n'
    )
    await app.post(booked("l-1"))
    [row] = await app.journal()
    # another process took the row when it fell due and died mid-send
    [taken] = await app.storage.write(
        lambda tx: tx.claim_due(
            now=row.due_at,
            channel="email",
            limit=1,
            owner="dead:1",
            lease_until=clock.now() + timedelta(seconds=1),
        )
    )
    assert taken.id == row.id
    clock.advance(seconds=2)  # the lease has expired
    assert await recover_leases(app.app) == 1
    [row] = await app.journal()
    assert row.status == "pending" and row.reason.startswith("recovered")
    clock.set(row.due_at)
    await app.wait_rows(lambda rows: rows[0].status == "sent")
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1


async def test_retention_purges_finished_rows_only(service, clock, smtp):
    app = await service(schedule={"retention_days": 30})
    await app.rules(
        CUSTOMER_EMAIL_RULE
        + """
[[rules]]
name = "start reminder"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email"]
"""
    )
    await app.post(booked("old-1", order={"id": "ORD-9", "planned_start": "2027-03-01T09:00:00"}))
    await app.wait_rows(lambda rows: any(r.status == "sent" for r in rows))
    clock.advance(days=31)
    assert await purge_journal(app.app) == 1
    [kept] = await app.journal()
    assert kept.status == "scheduled"  # not finished: never purged
