"""A ``kill -9`` of ``vestnik serve`` while it is sending, then a restart: nothing is lost, and
the rows the dead process held are settled at once, not after their lease (two minutes here):
SQLite's one-serve-per-file lock says they belong to a dead run, PostgreSQL's per-process
advisory lock says their owner is gone."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.fakes.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(tmp_path: Path, smtp_port: int, http_port: int, database: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'''
[service]
database = "{database}"
lease_seconds = 120
quiet_hours = ""

[webhook]
listen = "127.0.0.1:{http_port}"

[schedule]
retry_backoff = ["1s", "1s", "1s"]

[[email.accounts]]
name = "main"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from_address = "service@example.ru"
max_connections = 4
''',
        encoding="utf-8",
    )
    (tmp_path / "rules.toml").write_text(CUSTOMER_EMAIL_RULE, encoding="utf-8")
    return path


def vestnik(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):  # a loaded machine may take a minute to import everything
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode() if proc.stdout else "exited")
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("vestnik serve did not become healthy")


def journal_statuses(config: Path) -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "journal",
            "--json",
            "--limit",
            "100",
            "--config",
            str(config),
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [row["status"] for row in json.loads(out.stdout)]


async def test_kill_9_mid_send_then_restart_delivers_everything(tmp_path, database_url):
    with SmtpServer() as smtp:
        # after three messages every DATA waits at the server, so the kill finds sends
        # known to be in flight (claimed as sending, no reply yet)
        smtp.recorder.hold_after = 3
        port = free_port()
        config = write_config(tmp_path, smtp.port, port, database_url)
        url = f"http://127.0.0.1:{port}"
        assert (
            subprocess.run(
                [sys.executable, "-m", "bot", "migrate", "--config", str(config)],
                cwd=ROOT,
                check=False,
            ).returncode
            == 0
        )
        assert (
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "rules",
                    "import",
                    str(tmp_path / "rules.toml"),
                    "--config",
                    str(config),
                ],
                cwd=ROOT,
                check=False,
            ).returncode
            == 0
        )
        first = vestnik("serve", "--config", str(config))
        try:
            await wait_healthy(url, first)
            async with aiohttp.ClientSession() as session:
                events = [
                    booked(f"k-{i}", customer={"id": f"C-{i}", "email": f"c{i}@example.ru"})
                    for i in range(40)
                ]
                async with session.post(url + "/events", json={"events": events}) as response:
                    assert response.status == 202
                    assert (await response.json())["planned"] == 40
            deadline = time.monotonic() + 30
            while smtp.recorder.held == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert smtp.recorder.held > 0, "no send reached the server"
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
        assert len(smtp.recorder.messages) == 3
        # the server now finishes what it was holding, as a real one would after the client
        # vanished: those messages may arrive twice, that is the at-most-interrupted repeat
        smtp.recorder.release()

        orphaned = journal_statuses(config).count("sending")
        assert orphaned > 0, "the kill left no row sending: nothing to settle"
        second = vestnik("serve", "--config", str(config))
        try:
            await wait_healthy(url, second)
            restarted = time.monotonic()  # serving: the start-up settled them already
            # settled within 10 s of the restart, though their leases run for two minutes
            while "sending" in journal_statuses(config):
                assert time.monotonic() - restarted < 10, "rows stayed sending after restart"
                await asyncio.sleep(0.2)
            deadline = time.monotonic() + 60
            rows: list[dict[str, object]] = []
            while time.monotonic() < deadline:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bot",
                        "journal",
                        "--json",
                        "--limit",
                        "100",
                        "--config",
                        str(config),
                    ],
                    cwd=ROOT,
                    capture_output=True,
                    check=True,
                )
                rows = json.loads(out.stdout)
                if len(rows) == 40 and all(r["status"] == "sent" for r in rows):
                    break
                await asyncio.sleep(0.3)
            assert len(rows) == 40 and {r["status"] for r in rows} == {"sent"}, rows
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
        received = {str(m["To"]) for m in smtp.recorder.messages}
        assert received == {f"c{i}@example.ru" for i in range(40)}  # nothing lost
        # repeats are at most the sends the kill interrupted (max_connections in flight)
        assert len(smtp.recorder.messages) - 40 <= 4
