"""Changes made by another process reach a running ``vestnik serve`` within a second, and
SQLite allows one ``vestnik serve`` per database file.

Everything runs as a user runs it: ``vestnik serve`` and the CLI commands are subprocesses;
the e-mails go to the local aiosmtpd. The latency is read from the journal's own times: the
``due_at`` the CLI's resend wrote and the ``sent_at`` the service recorded.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from storage.open import open_storage
from storage.tx_journal import JournalFilter
from tests.conftest import booked
from tests.fakes.smtp import SmtpServer
from tests.test_crash_recovery import ROOT, free_port, vestnik, wait_healthy, write_config

BIRTHDAY_RULE = """
[[rules]]
name = "birthday, customer"
event = "birthday"
recipients = ["customer"]
channels = ["email"]
quiet_hours = false
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


async def journal(database: str, **flt: object) -> list:
    storage = open_storage(database)
    await storage.open()
    try:
        async with storage.reader() as tx:
            return list(reversed(await tx.list_journal(JournalFilter(limit=1000, **flt))))
    finally:
        await storage.close()


async def wait_journal(database: str, predicate, what: str, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        rows = await journal(database)
        if predicate(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(
                f"never happened: {what}: {[(r.id, r.status, r.sent_at) for r in rows]}"
            )
        await asyncio.sleep(0.1)


async def test_cli_resend_and_customers_import_reach_a_running_serve_within_a_second(
    tmp_path, database_url
):
    with SmtpServer() as smtp:
        port = free_port()
        config = write_config(tmp_path, smtp.port, port, database_url)
        # the daily scan's hour has always passed: a birthday planned now is due now
        text = config.read_text().replace("[schedule]\n", '[schedule]\ndaily_at = "00:00"\n')
        config.write_text(text, encoding="utf-8")
        (tmp_path / "rules.toml").write_text(
            (tmp_path / "rules.toml").read_text() + BIRTHDAY_RULE, encoding="utf-8"
        )
        assert cli("migrate", "--config", str(config)).returncode == 0
        assert (
            cli("rules", "import", str(tmp_path / "rules.toml"), "--config", str(config)).returncode
            == 0
        )
        serve = vestnik("serve", "--config", str(config))
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", serve)
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"http://127.0.0.1:{port}/events", json=booked("x-1")
                ) as response:
                    assert response.status == 202
            [row] = await wait_journal(
                database_url, lambda rows: rows and rows[0].status == "sent", "the booking sent"
            )

            resend = cli("journal", "resend", str(row.id), "--config", str(config))
            assert resend.returncode == 0, resend.stderr
            assert f"Уведомление {row.id} снова в очереди" in resend.stdout
            [again] = await wait_journal(
                database_url,
                lambda rows: rows[0].sent_at and rows[0].sent_at > row.sent_at,
                "the resent row sent again",
            )
            # due_at is the moment the CLI made the row pending
            latency = (again.sent_at - again.due_at).total_seconds()
            assert latency < 1.0, f"the resend waited {latency:.2f} s for the service"
            assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 2

            # a customer whose birthday is today, imported from a shell: planned by the
            # import, sent by the service without waiting for anything else
            today = datetime.now(ZoneInfo("Europe/Moscow")).date()
            (tmp_path / "customers.csv").write_text(
                f"id,name,email,birthday\nB-1,Анна Соколова,anna@example.ru,1990-{today:%m-%d}\n",
                encoding="utf-8",
            )
            imported = cli(
                "customers", "import", str(tmp_path / "customers.csv"), "--config", str(config)
            )
            assert imported.returncode == 0, imported.stderr
            assert "customers imported: 1" in imported.stdout
            rows = await wait_journal(
                database_url,
                lambda rows: any(r.event_type == "birthday" and r.status == "sent" for r in rows),
                "the greeting sent",
            )
            [greeting] = [r for r in rows if r.event_type == "birthday"]
            assert greeting.address == "anna@example.ru"
            latency = (greeting.sent_at - greeting.created_at).total_seconds()
            assert latency < 1.0, f"the imported birthday waited {latency:.2f} s"
        finally:
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=60) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_second_serve_on_one_sqlite_file_is_refused_naming_the_first(
    tmp_path, database_url
):
    with SmtpServer() as smtp:
        port = free_port()
        config = write_config(tmp_path, smtp.port, port, database_url)
        first = vestnik("serve", "--config", str(config))
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", first)
            other = tmp_path / "other.toml"
            other.write_text(
                config.read_text().replace(str(port), str(free_port())), encoding="utf-8"
            )
            second = cli("serve", "--config", str(other))
            assert second.returncode == 1
            assert f"(PID {first.pid})" in second.stderr
            assert "уже используется другим процессом vestnik serve" in second.stderr
            # the first one is untouched and still serving
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
        # once it stopped, the lock is free: a new serve starts
        again = vestnik("serve", "--config", str(config))
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", again)
        finally:
            again.send_signal(signal.SIGTERM)
            assert again.wait(timeout=60) == 0
