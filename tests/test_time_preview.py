"""``vestnik preview`` and ``/preview``: what goes out in the next H hours — recipient,
channel, due time in the recipient's local time, rendered text, SMS segments; and one
real-time end-to-end reminder over HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main as cli
from bot.core.timeutil import SystemClock
from bot.keys import CONFIG
from tests.conftest import booked
from tests.telegram_fixtures import ADMIN_ID, bot_app, fake_telegram, telegram_config  # noqa: F401
from tests.time_fixtures import clock, service  # noqa: F401

MOSCOW = ZoneInfo("Europe/Moscow")
REMINDERS = """
[[rules]]
name = "start, 2h before"
event = "repair_start_reminder"
recipients = ["customer"]
channels = ["email", "sms"]
delivery = "all"
before = "2h"
"""
SMS = {
    "portals": [
        {"name": "smsru", "kind": "smsru", "api_id": "test", "base_url": "http://127.0.0.1:9"}
    ]
}


def booked_in(event_id: str, now: datetime, start_in: timedelta, **customer: str) -> dict:
    start = (now + start_in).astimezone(MOSCOW).replace(tzinfo=None)
    return booked(
        event_id,
        occurred_at=now.isoformat(),
        customer={
            "id": "C-1",
            "name": "Иван Петров",
            "phone": "+79161234567",
            "email": "ivan@example.ru",
            **customer,
        },
        order={
            "id": f"O-{event_id}",
            "number": f"ЗН-{event_id}",
            "planned_start": start.isoformat(timespec="seconds"),
        },
    )


def cli_config(tmp_path, database: str) -> str:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'[service]\ndatabase = "{database}"\n\n[[sms.portals]]\nname = "smsru"\n'
        f'kind = "smsru"\napi_id = "test"\n',
        encoding="utf-8",
    )
    return str(path)


async def test_cli_preview_lists_the_next_hours(service, clock, tmp_path, capsys):
    now = SystemClock().now().replace(microsecond=0)
    clock.set(now)  # the CLI runs on the wall clock
    app = await service(sms=SMS)
    await app.rules(REMINDERS)
    await app.post(booked_in("p-1", now, timedelta(hours=5), timezone="Asia/Novosibirsk"))
    await app.post(booked_in("p-2", now, timedelta(hours=30)))
    path = cli_config(tmp_path, app.app[CONFIG].service.database)

    assert (
        await asyncio.to_thread(cli, ["preview", "--hours", "4", "--json", "--config", path]) == 0
    )
    items = json.loads(capsys.readouterr().out)
    assert [(i["event_id"], i["channel"]) for i in items] == [("p-1", "email"), ("p-1", "sms")]
    email, sms = items
    due = now + timedelta(hours=3)
    assert email["due_at"] == due.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert email["timezone"] == "Asia/Novosibirsk"
    assert email["due_local"] == due.astimezone(ZoneInfo("Asia/Novosibirsk")).strftime(
        "%Y-%m-%d %H:%M +07"
    )
    assert email["recipient_name"] == "Иван Петров" and email["address"] == "ivan@example.ru"
    assert "ЗН-p-1" in email["text"] and email["status"] == "scheduled"
    assert sms["address"] == "+79161234567" and sms["segments"] >= 1

    assert await asyncio.to_thread(cli, ["preview", "--hours", "48", "--config", path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and out[-1] == "4 notification(s) in the next 48 h"
    assert "Иван Петров · sms +79161234567 [1 SMS] · repair_start_reminder" in out[1]
    assert await asyncio.to_thread(cli, ["preview", "--hours", "0", "--config", path]) == 2


async def test_staff_preview_in_the_bot(bot_app, smtp):
    tg = await bot_app()
    now = SystemClock().now()
    await tg.running.rules(REMINDERS.replace('["email", "sms"]', '["email"]'))
    assert "ничего не запланировано" in await tg.reply(ADMIN_ID, "/preview")
    await tg.running.post(booked_in("bp-1", now, timedelta(hours=5)))
    answer = await tg.reply(ADMIN_ID, "/preview 6")
    assert "Будет отправлено за 6 ч" in answer and "Иван Петров" in answer
    assert "ivan@example.ru" in answer and "repair_start_reminder" in answer
    assert "Nothing is planned for the next 1 h" in await tg.reply(
        ADMIN_ID, "/preview 1", language="en"
    )
    assert "Формат: /preview" in await tg.reply(ADMIN_ID, "/preview soon")
    assert "только сотрудникам" in await tg.reply(2001, "/preview")


async def test_a_reminder_due_in_seconds_goes_out_in_real_time(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(REMINDERS.replace('["email", "sms"]', '["email"]'))
    now = datetime.now(UTC)
    status, _ = await app.post(booked_in("rt-1", now, timedelta(hours=2, seconds=3)))
    assert status == 202
    [row] = await app.journal()
    assert row.status == "scheduled"
    [row] = await app.wait_rows(lambda rows: rows[0].status == "sent", timeout=30)
    assert row.sent_at >= row.due_at
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1


@pytest.mark.parametrize("args", [["--hours", "x"], ["--hours", "-1"]])
def test_cli_preview_bad_usage(args, tmp_path):
    path = cli_config(tmp_path, f"sqlite:///{tmp_path}/p.db")
    assert cli(["preview", *args, "--config", path]) == 2
