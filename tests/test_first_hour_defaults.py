"""Defaults a newcomer meets: quiet hours on for customers, the journal on the service's
clock (its zone's name on screen, the offset in --json)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli import main as cli
from bot.core.config import load_config
from tests.conftest import booked
from tests.time_fixtures import clock  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
MOSCOW = ZoneInfo("Europe/Moscow")
RULES = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]

[[rules]]
name = "booked, urgent"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
quiet_hours = false
"""


def plain_config(tmp_path, database_url, smtp_port) -> str:
    """A config as a user writes it: nothing about quiet hours."""
    path = tmp_path / "plain.toml"
    path.write_text(
        f'''[service]
database = "{database_url}"

[[email.accounts]]
name = "main"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from_address = "service@example.ru"
''',
        encoding="utf-8",
    )
    return str(path)


async def test_quiet_hours_are_on_by_default_and_the_journal_shows_local_time(
    tmp_path, database_url, smtp, start_app, clock, capsys
):
    path = plain_config(tmp_path, database_url, smtp.port)
    config = load_config(path, environ={})
    assert config.service.quiet_hours == "21:00-09:00"
    clock.set(datetime(2026, 11, 25, 18, 54, tzinfo=UTC))  # 21:54 in Moscow: the reported mail
    app = await start_app(config, clock=clock)
    await app.rules(RULES)
    status, _ = await app.post(booked("late-evening"))
    assert status == 202
    rows = {r.rule: r for r in await app.journal()}
    assert rows["booked, customer"].status == "scheduled"
    assert rows["booked, customer"].due_at == datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW)
    await app.wait_rows(
        lambda rs: any(r.rule == "booked, urgent" and r.status == "sent" for r in rs)
    )

    assert await asyncio.to_thread(cli, ["journal", "--config", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "time", "(Europe/Moscow)", "status"]
    scheduled = next(line for line in lines if "scheduled" in line)
    assert "2026-11-26 09:00 MSK" in scheduled
    assert await asyncio.to_thread(cli, ["journal", "--json", "--config", path]) == 0
    data = {row["rule"]: row for row in json.loads(capsys.readouterr().out)}
    assert data["booked, customer"]["due_at"] == "2026-11-26T09:00:00+03:00"
    assert data["booked, customer"]["created_at"] == "2026-11-25T21:54:00+03:00"
    row_id = rows["booked, customer"].id
    assert await asyncio.to_thread(cli, ["journal", "show", str(row_id), "--config", path]) == 0
    shown = capsys.readouterr().out
    assert "2026-11-26T09:00:00+03:00 (Europe/Moscow)" in shown


def readme_sample_event(start: str) -> dict:
    """The quick start's curl body, exactly as the README shows it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start") : readme.index("## Posting events")]
    body = quick[quick.index("-d '") + 4 : quick.index("}'\n") + 1]
    return json.loads(body.replace("'\"$START\"'", start))  # the shell's quoting of $START


async def test_the_quick_start_sample_event_gives_journal_rows(
    tmp_path, database_url, smtp, start_app
):
    path = plain_config(tmp_path, database_url, smtp.port)
    config = load_config(path, environ={})
    app = await start_app(config)
    await app.rules((ROOT / "rules.example.toml").read_text(encoding="utf-8"))
    start = (datetime.now(MOSCOW) + timedelta(days=2)).strftime("%Y-%m-%dT10:00:00")
    status, answer = await app.post(readme_sample_event(start))
    assert status == 202, answer
    assert answer["planned"] >= 3 and "warnings" not in answer
    rows = await app.journal(event_id="ЗН-000123-booked")
    assert {r.event_type for r in rows} == {"order_booked", "repair_start_reminder"}
    reminder = [r for r in rows if r.event_type == "repair_start_reminder"]
    assert all("missed" not in (r.reason or "") for r in reminder)
    assert any(r.channel == "email" and r.address == "ivan@example.ru" for r in rows)


STARTS_WITHOUT_AIOGRAM = """
import asyncio, sys
from aiohttp import web
from bot.app import init_app
from bot.core.config import load_config

async def main():
    config = load_config(None, environ={}, overrides={"service": {"database": sys.argv[1]}})
    runner = web.AppRunner(init_app(config))
    await runner.setup()  # every cleanup context started: storage, channels, bot, dispatcher
    try:
        print("aiogram" in sys.modules)
    finally:
        await runner.cleanup()

asyncio.run(main())
"""


def test_a_service_without_telegram_starts_without_importing_aiogram(tmp_path):
    # aiogram takes seconds to import; an e-mail/SMS-only service must not pay them
    database = f"sqlite:///{tmp_path / 'vestnik.db'}"
    out = subprocess.run(
        [sys.executable, "-c", STARTS_WITHOUT_AIOGRAM, database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False", out.stdout + out.stderr
