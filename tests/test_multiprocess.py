"""Three ``vestnik serve`` processes on one PostgreSQL database, as a wholesaler runs them.

1,500 events posted to all three; the first 600 reach the local aiosmtpd exactly once while
all three live. Then ``kill -9`` of the process that leads the periodic jobs, mid-run: the
others finish its work (its leases expire and the new leader recovers them), one of them
takes over the leadership, a replacement process joins the work (not the leadership), and
nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.cli import main as cli
from tests.conftest import CUSTOMER_EMAIL_RULE
from tests.fakes.smtp import SmtpServer, free_port

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
MAX_CONNECTIONS = 4  # email sends in flight per process: the most a kill -9 can repeat


def write_config(folder: Path, database: str, http_port: int, smtp_port: int) -> Path:
    path = folder / f"config-{http_port}.toml"
    path.write_text(
        f'''
[service]
database = "{database}?pool_max=6"
lease_seconds = 5
quiet_hours = ""
log_level = "WARNING"

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
max_connections = {MAX_CONNECTIONS}
''',
        encoding="utf-8",
    )
    return path


class Serve:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:  # a file, never a pipe nobody reads
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--config", str(config)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with session.get(self.url + "/healthz") as response:
                return await response.json() if response.status == 200 else None
        except aiohttp.ClientError:
            return None


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"mp-{n}",
        "type": "order_booked",
        "customer": {"id": f"C-{n}", "name": "Иван Петров", "email": f"m{n}@example.ru"},
        "order": {"id": f"O-{n}", "number": f"ЗН-{n}"},
    }


async def wait_for(condition: Any, what: str, *, timeout: float = 60.0) -> Any:
    """Poll ``condition`` (async) until it returns something true (eventual, not timed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.1)


async def statuses(database: str) -> Counter[str]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("SELECT status, COUNT(*) AS n FROM journal GROUP BY status")
    finally:
        await conn.close()
    return Counter({row["status"]: row["n"] for row in rows})


async def held_by(database: str, pid: int) -> int:
    """Rows a process was sending (its owner id is host:pid:random)."""
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetchval(
            "SELECT COUNT(*) FROM journal WHERE status = 'sending' AND lease_owner LIKE $1",
            f"%:{pid}:%",
        )
    finally:
        await conn.close()


async def post_all(
    session: aiohttp.ClientSession, servers: list[Serve], first: int, count: int
) -> None:
    """Batches of 100, spread over every process, posted concurrently."""

    async def post(batch: int) -> None:
        start = first + batch * 100
        body = {"events": [event(n) for n in range(start, start + 100)]}
        server = servers[batch % len(servers)]
        async with session.post(
            server.url + "/events",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 202, await response.text()
            assert len((await response.json())["accepted"]) == 100

    await asyncio.gather(*(post(b) for b in range(count // 100)))


FIRST, TOTAL = 600, 1500  # events before and after the kill (batches of 100)


async def test_three_processes_deliver_exactly_once_and_survive_a_kill_9(
    tmp_path, postgres_database
):
    with SmtpServer() as smtp:
        configs = []
        for _ in range(3):
            port = free_port()
            configs.append((write_config(tmp_path, postgres_database, port, smtp.port), port))
        (tmp_path / "rules.toml").write_text(CUSTOMER_EMAIL_RULE, encoding="utf-8")
        assert (
            await asyncio.to_thread(
                cli,
                ["rules", "import", str(tmp_path / "rules.toml"), "--config", str(configs[0][0])],
            )
            == 0
        )
        servers = [Serve(config, port, tmp_path / f"serve-{port}.log") for config, port in configs]
        try:
            async with aiohttp.ClientSession() as session:
                for server in servers:
                    await wait_for(lambda s=server: s.health(session), f"{server.url} up")

                async def leaders() -> list[Serve]:
                    found = []
                    for server in servers:
                        if server.alive():
                            health = await server.health(session)
                            if health and health.get("leader"):
                                found.append(server)
                    return found

                assert len(await wait_for(leaders, "a leader")) == 1

                # 600 events, three live processes: every email exactly once
                await post_all(session, servers, 0, FIRST)
                await wait_for(lambda: _all_sent(postgres_database, FIRST), f"{FIRST} sent")
                first_half = Counter(str(m["To"]) for m in smtp.recorder.messages)
                assert first_half == Counter({f"m{n}@example.ru": 1 for n in range(FIRST)})
                assert len(await leaders()) == 1  # periodic jobs in one process only

                # 900 more, slower sends so some are in flight; kill -9 the leader mid-run
                smtp.recorder.data_delay = 0.01
                await post_all(session, servers, FIRST, TOTAL - FIRST)
                await wait_for(lambda: _delivered_at_least(smtp, FIRST + 150), "sending")
                leader = (await leaders())[0]
                os.kill(leader.proc.pid, signal.SIGKILL)
                leader.proc.wait()
                assert len(smtp.recorder.messages) < TOTAL, "all sent before the kill"
                orphaned = await held_by(postgres_database, leader.proc.pid)
                assert orphaned > 0, "the killed process held no rows: nothing to take over"
                survivors = [s for s in servers if s is not leader]
                new_leader = await wait_for(leaders, "a new leader", timeout=30)
                assert len(new_leader) == 1 and new_leader[0] in survivors
                # the operator starts a replacement: it joins the work, not the leadership
                port = free_port()
                replacement = Serve(
                    write_config(tmp_path, postgres_database, port, smtp.port),
                    port,
                    tmp_path / f"serve-{port}.log",
                )
                servers.append(replacement)
                await wait_for(lambda: replacement.health(session), "the replacement up")
                assert await leaders() == new_leader

                await wait_for(
                    lambda: _all_sent(postgres_database, TOTAL), f"{TOTAL} sent", timeout=60
                )
                assert (await statuses(postgres_database)) == Counter({"sent": TOTAL})
        finally:
            for server in servers:
                if server.alive():
                    server.proc.send_signal(signal.SIGTERM)
            for server in servers:
                if server.proc.wait(timeout=30) not in (0, -signal.SIGKILL):
                    raise AssertionError(server.log.read_text(errors="replace")[-3000:])

        received = Counter(str(m["To"]) for m in smtp.recorder.messages)
        assert set(received) == {f"m{n}@example.ru" for n in range(TOTAL)}  # none lost
        repeats = sum(n - 1 for n in received.values())
        # only sends the kill interrupted after the server took them can go out twice
        assert repeats <= MAX_CONNECTIONS, repeats


async def _all_sent(database: str, count: int) -> bool:
    return (await statuses(database)).get("sent", 0) == count


async def _delivered_at_least(smtp: SmtpServer, count: int) -> bool:
    return len(smtp.recorder.messages) >= count
