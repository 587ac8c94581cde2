"""``resend`` is for rows that were sent or failed: a ``scheduled`` row (a reminder due
later) is refused with its due time unless the caller insists — ``vestnik journal resend ID
--now``, ``/resend ID now`` in the bot, ``POST /journal/ID/resend?now=1``."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import booked
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)
from tests.test_cross_process import cli

REMINDER = """
[[rules]]
name = "repair start, customer, 2h before"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email"]
before = "2h"
"""
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
async def reminder(bot_app, smtp):
    """The app with the bot, and a reminder row due in three days (08:00 Moscow)."""
    tg = await bot_app()
    await tg.running.rules(REMINDER)
    start = (datetime.now(MOSCOW) + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    status, _ = await tg.running.post(
        booked("rs-1", order={"id": "ORD-9", "number": "ЗН-9", "planned_start": start.isoformat()})
    )
    assert status == 202
    [row] = await tg.running.journal(event_type="repair_start_reminder")
    assert row.status == "scheduled"
    due = (start - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    return tg, row, due


async def test_http_resend_of_a_scheduled_row_says_when_it_is_due_unless_now(reminder, smtp):
    tg, row, due = reminder
    session, url = tg.running.session, tg.running.url
    async with session.post(f"{url}/journal/{row.id}/resend") as response:
        assert response.status == 409
        body = await response.json()
    assert body["error"] == "scheduled" and body["due_at"] == row.public()["due_at"]
    assert f"запланировано на {due}" in body["message"] and "?now=1" in body["message"]
    assert (await tg.running.journal(event_type="repair_start_reminder"))[0].status == "scheduled"
    async with session.post(f"{url}/journal/{row.id}/resend?now=1") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "pending"
    await tg.running.wait_rows(
        lambda rows: rows[0].status == "sent", event_type="repair_start_reminder"
    )
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1
    async with session.post(f"{url}/journal/9999/resend") as response:
        assert response.status == 404 and (await response.json())["error"] == "not_found"


async def test_bot_resend_of_a_scheduled_row_needs_now(reminder):
    tg, row, due = reminder
    answer = await tg.reply(ADMIN_ID, f"/resend {row.id}")
    assert answer == (
        f"Уведомление #{row.id} ещё не отправлялось: оно запланировано на {due} "
        f"MSK. Отправить сейчас: /resend {row.id} now"
    )
    assert await tg.reply(ADMIN_ID, f"/resend {row.id} later") == "Формат: /resend id [now]"
    assert (await tg.running.journal(event_type="repair_start_reminder"))[0].status == "scheduled"
    answer = await tg.reply(ADMIN_ID, f"/resend {row.id} now")
    assert answer.startswith(f"Уведомление #{row.id} поставлено в очередь")
    await tg.running.wait_rows(
        lambda rows: rows[0].status == "sent", event_type="repair_start_reminder"
    )


async def test_cli_resend_of_a_scheduled_row_needs_now(reminder, tmp_path):
    tg, row, due = reminder
    config = tmp_path / "cli.toml"
    config.write_text(f'[service]\ndatabase = "{database_of(tg)}"\n', encoding="utf-8")
    refused = await asyncio.to_thread(
        cli, "journal", "resend", str(row.id), "--config", str(config)
    )
    assert refused.returncode == 1
    assert (
        f"Уведомление {row.id} ещё не отправлялось: оно запланировано на {due}" in refused.stderr
    ) and "--now" in refused.stderr
    forced = await asyncio.to_thread(
        cli, "journal", "resend", str(row.id), "--now", "--config", str(config)
    )
    assert forced.returncode == 0 and f"Уведомление {row.id} снова в очереди" in forced.stdout
    await tg.running.wait_rows(
        lambda rows: rows[0].status == "sent", event_type="repair_start_reminder"
    )
    # a sent row needs no --now
    again = await asyncio.to_thread(cli, "journal", "resend", str(row.id), "--config", str(config))
    assert again.returncode == 0


def database_of(tg) -> str:
    from bot.keys import CONFIG

    return tg.app[CONFIG].service.database
