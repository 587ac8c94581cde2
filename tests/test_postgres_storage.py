"""PostgreSQL-only behaviour: migrations and the schema check, and what several processes
sharing one database rely on (SKIP LOCKED claims, LISTEN/NOTIFY, leadership, the shared
Telegram pacing). Each "process" here is a storage object with connections of its own, as a
``vestnik serve`` process has; tests/test_multiprocess.py runs real processes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bot.cli import main as cli
from senders.telegram_limits import SharedRateLimiter, chat_interval
from storage.base import SchemaTooNew, Storage
from storage.models import JournalRow
from storage.postgres import PostgresStorage, postgres_migrations
from storage.postgres_tx import pg_sql
from tests.conftest import CUSTOMER_EMAIL_RULE, booked

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def open_pg(postgres_database: str) -> AsyncIterator[Callable[[], Awaitable[Storage]]]:
    opened: list[Storage] = []

    async def make() -> Storage:
        storage = PostgresStorage(postgres_database + "?pool_max=4")
        await storage.open()
        opened.append(storage)
        return storage

    yield make
    for storage in reversed(opened):
        await storage.close()


def pending(n: int, channel: str = "email") -> list[JournalRow]:
    return [
        JournalRow(
            event_id=f"e-{i}",
            event_type="order_booked",
            rule="r",
            recipient_role="customer",
            channel=channel,
            status="pending",
            address=f"c{i}@example.ru",
            created_at=NOW,
            due_at=NOW,
        )
        for i in range(n)
    ]


def test_placeholders_are_rewritten_outside_string_literals() -> None:
    assert (
        pg_sql("SELECT * FROM t WHERE a = ? AND b IN (?, '*?') LIMIT ?")
        == "SELECT * FROM t WHERE a = $1 AND b IN ($2, '*?') LIMIT $3"
    )


async def test_migrations_apply_in_order_and_record_the_version(open_pg, postgres_database):
    # two processes starting together: one migrates, the other waits and finds it done
    first, second = await asyncio.gather(open_pg(), open_pg())
    latest = postgres_migrations()[-1][0]
    assert await first.schema_version() == latest == await second.schema_version()
    conn = await asyncpg.connect(postgres_database)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM vestnik_schema")]
    finally:
        await conn.close()
    assert versions == [v for v, _ in postgres_migrations()]


async def test_a_database_newer_than_the_code_is_refused(postgres_database, tmp_path, capsys):
    conn = await asyncpg.connect(postgres_database)
    try:
        await conn.execute(
            "CREATE TABLE vestnik_schema (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        await conn.execute("INSERT INTO vestnik_schema (version) VALUES (999)")
    finally:
        await conn.close()
    storage = PostgresStorage(postgres_database)
    with pytest.raises(SchemaTooNew, match="schema version 999.*upgrade Vestnik"):
        await storage.open()
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndatabase = "{postgres_database}"\n', encoding="utf-8")
    assert await asyncio.to_thread(cli, ["migrate", "--config", str(config)]) == 2
    assert "schema version 999" in capsys.readouterr().err


async def test_vestnik_migrate_creates_the_schema(postgres_database, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\ndatabase = "{postgres_database}"\n', encoding="utf-8")
    assert await asyncio.to_thread(cli, ["migrate", "--config", str(config)]) == 0
    latest = postgres_migrations()[-1][0]
    assert f"up to date (version {latest})" in capsys.readouterr().out


async def test_concurrent_claims_split_the_rows_between_processes(open_pg):
    a, b = await open_pg(), await open_pg()
    await a.write(lambda tx: tx.insert_journal_bulk(pending(400)))
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    async def worker(storage: Storage, owner: str) -> None:
        while True:
            rows = await storage.write(
                lambda tx: tx.claim_due(
                    now=NOW,
                    channel="email",
                    limit=5,
                    owner=owner,
                    lease_until=NOW + timedelta(minutes=1),
                )
            )
            if not rows:
                return
            claimed[owner] += [row.id for row in rows]  # type: ignore[misc]
            await asyncio.sleep(0)

    await asyncio.gather(worker(a, "a"), worker(b, "b"))
    every = claimed["a"] + claimed["b"]
    assert sorted(every) == list(range(1, 401))  # all taken, none twice
    assert not set(claimed["a"]) & set(claimed["b"])


async def test_a_dead_owners_rows_are_recovered_once_the_lease_expires(open_pg):
    a = await open_pg()
    await a.write(lambda tx: tx.insert_journal_bulk(pending(3)))
    await a.write(
        lambda tx: tx.claim_due(
            now=NOW, channel="email", limit=3, owner="dead", lease_until=NOW + timedelta(seconds=30)
        )
    )
    assert await a.write(lambda tx: tx.recover_expired(NOW + timedelta(seconds=10))) == 0
    assert await a.write(lambda tx: tx.recover_expired(NOW + timedelta(seconds=31))) == 3
    rows = await a.write(
        lambda tx: tx.claim_due(
            now=NOW + timedelta(seconds=31),
            channel="email",
            limit=10,
            owner="alive",
            lease_until=NOW + timedelta(seconds=90),
        )
    )
    assert len(rows) == 3
    assert not await a.write(lambda tx: tx.finish(rows[0].id, "dead", status="sent", sent_at=NOW))


async def test_new_rows_wake_the_other_processes(open_pg):
    a, b = await open_pg(), await open_pg()
    woke = asyncio.Event()
    b.add_wakeup_listener(woke.set)
    own = asyncio.Event()
    a.add_wakeup_listener(own.set)
    # LISTEN is set up by the keeper; notify until it is (a NOTIFY before LISTEN is lost)
    for _ in range(100):
        await a.notify_new_rows()
        try:
            await asyncio.wait_for(woke.wait(), 0.1)
            break
        except TimeoutError:
            continue
    assert woke.is_set()
    assert not own.is_set()  # our own notification is not news to us


async def test_one_leader_at_a_time_and_failover_when_it_dies(open_pg):
    a, b = await open_pg(), await open_pg()
    assert await a.try_leadership() is True
    assert await b.try_leadership() is False
    assert await a.try_leadership() is True
    await a.close()  # the process dies: its session, and the lock, go away
    for _ in range(200):
        if await b.try_leadership():
            break
        await asyncio.sleep(0.05)
    assert b.is_leader


async def test_leadership_returns_after_the_connection_is_killed(open_pg, postgres_database):
    a = await open_pg()
    assert await a.try_leadership()
    conn = await asyncpg.connect(postgres_database)
    try:  # an administrator (or a restart) kills the leader's session
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()) AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    for _ in range(200):
        if a.is_leader and a._leader_conn is not None and not a._leader_conn.is_closed():
            break
        await asyncio.sleep(0.05)
    assert a.is_leader


async def test_telegram_pacing_is_shared_by_every_process(open_pg):
    a, b = await open_pg(), await open_pg()
    rate = 40.0
    limiters = [SharedRateLimiter(a, rate), SharedRateLimiter(b, rate)]
    chats = list(range(1000, 1030))
    await asyncio.gather(*(limiters[i % 2].acquire(chat) for i, chat in enumerate(chats)))
    slots = sorted(limiters[0].granted + limiters[1].granted)
    assert len(slots) == len(chats)
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= limiters[0].spacing - 1e-6  # never two slots closer than the rate


async def test_one_chat_gets_one_slot_per_interval_across_processes(open_pg):
    a, b = await open_pg(), await open_pg()
    limiters = [SharedRateLimiter(a, 1000.0), SharedRateLimiter(b, 1000.0)]
    await asyncio.gather(limiters[0].acquire(7), limiters[1].acquire(7))
    slots = sorted(limiters[0].granted + limiters[1].granted)
    assert slots[1] - slots[0] >= chat_interval(7) - 1e-6  # one a second per chat


async def test_a_429_in_one_process_pauses_the_others(open_pg):
    a, b = await open_pg(), await open_pg()
    first, second = SharedRateLimiter(a, 1000.0), SharedRateLimiter(b, 1000.0)
    await first.acquire(1)
    first.pause(0.5)
    await asyncio.gather(*first._pause_tasks)
    paused_until = await b.bucket_paused_for("telegram")
    assert paused_until > 0
    await second.acquire(2)
    assert second.granted[0] >= first.granted[0] + 0.5 - 0.05


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_the_same_event_posted_to_two_processes_is_stored_once(make_config, start_app):
    config = make_config()
    one, two = await start_app(config), await start_app(config)
    await one.rules(CUSTOMER_EMAIL_RULE)
    results = await asyncio.gather(
        *(
            app.post({"events": [booked(f"race-{i}") for i in range(20)]})
            for app in (one, two, one, two)
        )
    )
    assert all(status == 202 for status, _ in results)
    accepted = [e for _, body in results for e in body["accepted"]]
    assert sorted(accepted) == sorted(f"race-{i}" for i in range(20))
    rows = await one.wait_rows(
        lambda rows: len(rows) == 20 and all(r.status == "sent" for r in rows)
    )
    assert len({r.event_id for r in rows}) == 20
