"""The store under hostile conditions: a deleted database directory, a full disk, a burst of
clients on the PostgreSQL pool; credentials never printed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE, booked, new_postgres_database
from tests.fakes.smtp import free_port
from tests.hostile import ROOT, vestnik, write_config


async def health(app) -> tuple[int, dict]:
    async with app.session.get(app.url + "/healthz") as response:
        return response.status, await response.json()


async def test_a_deleted_database_directory_is_503_not_202(
    make_config, start_app, tmp_path, backend
):
    if backend != "sqlite":
        pytest.skip("a database directory is SQLite's")
    folder = tmp_path / "data"
    folder.mkdir()
    app = await start_app(make_config(service={"database": f"sqlite:///{folder}/v.db"}))
    assert (await app.post(booked("del-1")))[0] == 202
    shutil.rmtree(folder)
    status, answer = await app.post(booked("del-2"))  # checked before answering 202
    assert status == 503, answer
    assert "deleted" in answer["message"]
    status, body = await health(app)
    assert status == 503 and body["database"] == "down"


def test_a_missing_directory_is_refused_at_start_and_a_new_database_is_logged(tmp_path: Path):
    gone = tmp_path / "gone"
    config = write_config(
        tmp_path / "config.toml", f'[service]\ndatabase = "sqlite:///{gone}/v.db"\n'
    )
    done = vestnik("migrate", "--config", config)
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "refusing to create" in done.stderr
    assert vestnik("journal", "--config", config).returncode != 0
    assert not gone.exists()
    fresh = write_config(
        tmp_path / "fresh.toml", f'[service]\ndatabase = "sqlite:///{tmp_path}/v.db"\n'
    )
    done = vestnik("migrate", "--config", fresh)
    assert done.returncode == 0 and "NEW DATABASE" in done.stderr and "v.db" in done.stderr
    again = vestnik("migrate", "--config", fresh)
    assert again.returncode == 0 and "NEW DATABASE" not in again.stderr


async def test_healthz_reports_the_database_failing_while_writes_fail(
    make_config, start_app, backend
):
    if backend != "sqlite":
        pytest.skip("a full disk is emulated with SQLite's max_page_count")
    app = await start_app(make_config())
    await app.rules(CUSTOMER_EMAIL_RULE)
    writer = app.storage._writer  # the real connection: its file may not grow (a full disk)
    pages = writer.execute("PRAGMA page_count").fetchone()[0]
    writer.execute(f"PRAGMA max_page_count = {pages}")
    big = booked("full-1", data={"blob": "x" * 200_000})
    status, answer = await app.post(big)
    assert status == 503 and "full" in answer["message"]
    status, body = await health(app)
    assert status == 503 and body["database"] == "down"
    writer.execute("PRAGMA max_page_count = 1073741823")  # space again
    assert (await app.post(big))[0] == 202
    for _ in range(300):  # a failed write counts for a while, then health is ok again
        status, body = await health(app)
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert status == 200 and body["database"] == "ok"


async def test_two_hundred_concurrent_clients_wait_instead_of_503(make_config, start_app):
    app = await start_app(make_config())  # PostgreSQL: pool_max=4 (conftest)
    await app.rules(CUSTOMER_EMAIL_RULE)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post(i: int) -> int:
            async with session.post(app.url + "/events", json=booked(f"burst-{i}")) as response:
                return response.status

        statuses = await asyncio.gather(*(post(i) for i in range(200)))
    assert statuses.count(202) == 200, sorted(set(statuses))


async def test_a_pool_that_stays_full_is_503_naming_the_cause(make_config, start_app, backend):
    if backend != "postgres":
        pytest.skip("the connection pool is PostgreSQL's")
    url = new_postgres_database()
    app = await start_app(make_config(service={"database": url + "?pool_max=1&pool_wait=0.5"}))
    await app.storage.ping()
    async with app.storage.transaction():  # the only connection, held
        status, answer = await app.post(booked("pool-1"))
    assert status == 503
    assert (
        "no free connection within 0.5 s" in answer["message"] and "pool_max=1" in answer["message"]
    )
    assert (await app.post(booked("pool-1")))[0] == 202


def test_the_database_password_is_never_printed(tmp_path: Path):
    url = new_postgres_database()
    secret_url = url.replace("postgresql://postgres@", "postgresql://postgres:Sup3rS3cretPw@")
    port = free_port()
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "{secret_url}"
[webhook]
listen = "127.0.0.1:{port}"
""",
    )
    bad = write_config(
        tmp_path / "bad.toml",
        """
[service]
database = "postgresql://postgres:Sup3rS3cretPw@127.0.0.1:1/nowhere?connect_timeout=2"
""",
    )
    done = vestnik("journal", "--config", bad)
    assert done.returncode == 1 and "Sup3rS3cretPw" not in done.stdout + done.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--config", config],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = proc.stdout.readline() if proc.stdout else ""
        deadline = time.monotonic() + 60
        while "vestnik: webhook" not in banner and time.monotonic() < deadline:
            banner = proc.stdout.readline() if proc.stdout else ""
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    assert "vestnik: webhook" in banner and "postgres:***@" in banner
    assert "Sup3rS3cretPw" not in banner + rest
