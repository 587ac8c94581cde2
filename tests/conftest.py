"""Shared fixtures: a real SMTP server, a config on a temporary database, the app on a free
port, and helpers to post events and wait for the journal.

Every test that touches storage runs on both backends: ``database_url`` is parametrised
``[sqlite]`` (a file in the test's tmp dir) and ``[postgres]`` (a fresh database of its own on
the PostgreSQL server at ``VESTNIK_TEST_POSTGRES``, default the machine's 127.0.0.1:5432, dropped
after the test). Pick backends with ``VESTNIK_TEST_BACKENDS=sqlite`` (or ``postgres``) or with
``-m "not postgres"``; when no PostgreSQL server answers, the postgres runs are skipped and the
skip reason says so (``pytest -rs``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import init_app
from bot.core.config import Config, load_config
from bot.keys import CONFIG, STORAGE
from bot.pipeline.rule_file import import_rules
from storage.models import JournalRow
from storage.tx_journal import JournalFilter
from tests.fakes.smtp import SmtpServer

pytest_plugins: list[str] = []

POSTGRES_ADMIN_URL = os.environ.get(
    "VESTNIK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    name.strip()
    for name in os.environ.get("VESTNIK_TEST_BACKENDS", "sqlite,postgres").split(",")
    if name.strip()
]
_database_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: the test runs on the SQLite backend")
    config.addinivalue_line("markers", "postgres: the test runs on the PostgreSQL backend")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say it plainly when the PostgreSQL half of the suite did not run."""
    if _postgres_problem and _postgres_problem[0] is not None:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests skipped: no server at {POSTGRES_ADMIN_URL} "
            f"({_postgres_problem[0]}); set VESTNIK_TEST_POSTGRES",
            yellow=True,
        )


def _in_thread(coro_factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine on a loop of its own (sync fixtures may run inside the test's loop)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(coro_factory())  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def postgres_admin(*statements: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    _in_thread(run)


_postgres_problem: list[str | None] = []


def postgres_unreachable() -> str | None:
    """None when the test server answers, else why not (asked once per session)."""
    if not _postgres_problem:
        try:
            postgres_admin("SELECT 1")
            _postgres_problem.append(None)
        except Exception as exc:  # any failure means: skip, and say why
            _postgres_problem.append(f"{type(exc).__name__}: {exc}")
    return _postgres_problem[0]


def new_postgres_database() -> str:
    """CREATE DATABASE with a name of its own; returns its URL (drop it with
    :func:`drop_postgres_database`)."""
    if "postgres" not in BACKENDS:
        pytest.skip("VESTNIK_TEST_BACKENDS leaves PostgreSQL out")
    problem = postgres_unreachable()
    if problem is not None:
        reason = (
            f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} "
            f"(set VESTNIK_TEST_POSTGRES): {problem}"
        )
        if os.environ.get("VESTNIK_TEST_REQUIRE_POSTGRES"):  # CI: both backends or fail
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"vestnik_test_{os.getpid()}_{next(_database_names)}"
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.split("?")[0].rsplit("/", 1)[1]
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (skipped when no server answers)."""
    url = new_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/vestnik.db"
        return
    url = new_postgres_database()
    yield url + "?pool_max=4"
    drop_postgres_database(url)


@pytest.fixture
def make_config(tmp_path: Path, database_url: str, smtp: SmtpServer) -> Callable[..., Config]:
    """A config whose email account points at the test SMTP server; sections overridable."""

    def build(**sections: dict[str, Any]) -> Config:
        data: dict[str, dict[str, Any]] = {
            # quiet hours off: tests run at any hour; the quiet-hours tests set a window
            "service": {"database": database_url, "lease_seconds": 30, "quiet_hours": ""},
            # the app is served on a free port by start_app; this only has to be valid
            "webhook": {"listen": "127.0.0.1:8080"},
            "schedule": {"retry_backoff": ["1s", "1s", "1s"]},
        }
        email = {
            "accounts": [
                {
                    "name": "main",
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "tls": "none",
                    "from_address": "service@example.ru",
                    "from_name": "Автосервис Север",
                    "timeout": 5,
                }
            ]
        }
        data["email"] = email
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        path = tmp_path / "config.toml"
        path.write_text("", encoding="utf-8")
        return load_config(path, environ={}, overrides=data)

    return build


class RunningApp:
    def __init__(self, app: web.Application, url: str, session: aiohttp.ClientSession) -> None:
        self.app = app
        self.url = url
        self.session = session

    @property
    def storage(self) -> Any:
        return self.app[STORAGE]

    async def post(
        self, body: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        async with self.session.post(
            self.url + self.app[CONFIG].webhook.path, data=data, headers=hdrs
        ) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, text

    async def journal(self, **flt: Any) -> list[JournalRow]:
        async with self.storage.reader() as tx:
            return list(reversed(await tx.list_journal(JournalFilter(limit=10000, **flt))))

    async def rules(self, text: str) -> None:
        await import_rules(self.storage, text)

    async def wait_rows(
        self, predicate: Callable[[list[JournalRow]], bool], *, timeout: float = 20.0, **flt: Any
    ) -> list[JournalRow]:
        """Poll the journal until ``predicate`` holds (eventual delivery, not a timing test)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rows = await self.journal(**flt)
            if predicate(rows):
                return rows
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"journal never reached the expected state: "
                    f"{[(r.id, r.channel, r.status, r.error) for r in rows]}"
                )
            await asyncio.sleep(0.05)


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[[Config], Awaitable[RunningApp]]]:
    runners: list[web.AppRunner] = []
    session = aiohttp.ClientSession()

    async def start(config: Config, **kwargs: Any) -> RunningApp:
        app = init_app(config, **kwargs)
        runner = web.AppRunner(app, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return RunningApp(app, f"http://127.0.0.1:{port}", session)

    yield start
    for runner in reversed(runners):
        await runner.cleanup()
    await session.close()


CUSTOMER_EMAIL_RULE = """
[[rules]]
name = "booked, customer"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
"""


def booked(event_id: str = "evt-1", **extra: Any) -> dict[str, Any]:
    """A realistic order_booked event as a 1C site posts it."""
    event: dict[str, Any] = {
        "id": event_id,
        "type": "order_booked",
        "occurred_at": "2026-11-25T10:00:00+03:00",
        "customer": {
            "id": "C-001",
            "name": "Иван Петров",
            "phone": "8 (916) 123-45-67",
            "email": "ivan@example.ru",
        },
        "manager": {"id": "S-7", "name": "Ольга", "phone": "+7 916 000-00-07"},
        "order": {
            "id": "ORD-1",
            "number": "ЗН-000123",
            "planned_start": "2026-11-27T09:00:00",
            "amount": 15000,
            "currency": "RUB",
        },
        "vehicle": {"make": "Lada", "model": "Vesta", "plate": "А123ВС777"},
    }
    event.update(extra)
    return event
