"""A PostgreSQL restart while the ERP is posting: 503s while the server is down, 202s again
when it is back, no accepted event missing, every notification delivered exactly once.

The restart is real (``pg_ctl stop -m fast`` then ``start``) but of a private server: this
module runs ``initdb`` into a temporary directory and starts it on a free port, because
restarting the machine's own server would break every other test using it at the same time.
Skipped, with the reason, when the PostgreSQL server binaries are not installed.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, CUSTOMER_EMAIL_RULE, booked
from tests.fakes.smtp import free_port

pytestmark = pytest.mark.postgres


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throwaway PostgreSQL server: initdb in a temp dir, pg_ctl start/stop."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="vestnik-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.folder / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-w",
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-w", "-m", mode, "stop"
        )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if "postgres" not in BACKENDS:
        pytest.skip("VESTNIK_TEST_BACKENDS leaves PostgreSQL out")
    bindir = server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bindir)
    try:
        server.init()
        server.start()
    except (subprocess.CalledProcessError, OSError, KeyError) as exc:
        server.remove()
        pytest.skip(f"cannot start a private PostgreSQL server: {exc}")
    yield server
    try:
        server.stop("immediate")
    except subprocess.CalledProcessError:
        pass  # already stopped
    server.remove()


@pytest.fixture
def database_url(private_postgres: PrivatePostgres) -> str:
    return private_postgres.url + "?pool_max=4&connect_timeout=2"


async def test_postgres_restart_during_intake(private_postgres, make_config, start_app, smtp):
    # a lease longer than the outage: sends finished while the server was down are recorded
    # when it is back (the dispatcher keeps trying), so nothing goes out twice
    app = await start_app(make_config(service={"lease_seconds": 30}))
    await app.rules(CUSTOMER_EMAIL_RULE)
    accepted: set[str] = set()
    answers: list[int] = []
    health_while_down: list[int] = []
    restarted = asyncio.Event()

    async def erp(worker: int, count: int) -> None:
        """Posts its events one by one, each again until it gets a 202, as the ERP does."""
        for n in range(count):
            event_id = f"o-{worker}-{n}"
            event = booked(
                event_id, customer={"id": f"C-{worker}-{n}", "email": f"c{worker}-{n}@example.ru"}
            )
            while True:
                status, body = await app.post(event)
                answers.append(status)
                if status == 202:
                    assert event_id in body["accepted"] + body["duplicates"]
                    accepted.add(event_id)
                    break
                assert status == 503, body
                assert body["error"] == "storage_unavailable"
                await asyncio.sleep(0.02)

    async def operator() -> None:
        while len(accepted) < 40:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(private_postgres.stop, "fast")
        while answers.count(503) < 10:
            await asyncio.sleep(0.01)
        async with app.session.get(app.url + "/healthz") as response:
            health_while_down.append(response.status)
        await asyncio.to_thread(private_postgres.start)
        restarted.set()

    workers = 4
    per_worker = 60
    await asyncio.gather(operator(), *(erp(w, per_worker) for w in range(workers)))
    assert restarted.is_set()
    assert answers.count(503) >= 10 and health_while_down == [503]
    assert len(accepted) == workers * per_worker

    # every accepted event is stored with its notification, and the dispatcher resumed
    rows = await app.wait_rows(
        lambda rows: len(rows) == workers * per_worker and all(r.status == "sent" for r in rows),
        timeout=90,
    )
    assert {r.event_id for r in rows} == accepted
    received = Counter(str(m["To"]) for m in smtp.recorder.messages)
    assert received == Counter(
        {f"c{w}-{n}@example.ru": 1 for w in range(workers) for n in range(per_worker)}
    )
    async with app.session.get(app.url + "/healthz") as response:
        assert response.status == 200
