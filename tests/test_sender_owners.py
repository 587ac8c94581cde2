"""Who holds the rows being sent: a process that died is known at once, so its ``sending``
rows are settled without waiting out their lease (bench: tests/test_crash_recovery.py runs
the same with real processes and ``kill -9``)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from storage.base import DatabaseInUse
from storage.open import open_storage
from tests.test_postgres_storage import open_pg, pending  # noqa: F401

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEASE = NOW + timedelta(hours=1)  # far away: only knowing the owner is dead settles them


async def test_postgres_live_owners_keep_their_rows_dead_ones_lose_them_at_once(open_pg):
    a, b = await open_pg(), await open_pg()
    await a.register_sender("host:1:a")
    await b.register_sender("host:2:b")
    await a.write(lambda tx: tx.insert_journal(pending(5)))
    held = await a.write(
        lambda tx: tx.claim_due(
            now=NOW, channel="email", limit=3, owner="host:1:a", lease_until=LEASE
        )
    )
    assert len(held) == 3
    assert await b.recover_dead_senders() == 0  # a lives: its rows stay its own
    a._owner_conn.terminate()  # a's process dies: its session and its lock go
    a._owner = None  # (and nothing of it comes back)
    # the server frees the session's lock when it notices the closed socket, a moment later
    # (the service's leader looks every two seconds)
    deadline = time.monotonic() + 10
    recovered = await b.recover_dead_senders()
    while recovered == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        recovered = await b.recover_dead_senders()
    assert recovered == 3
    async with b.reader() as tx:
        rows = await tx.list_journal({"limit": 10})
    assert sorted(r.status for r in rows) == ["pending"] * 5
    assert {r.reason for r in rows if r.id in {h.id for h in held}} == {
        "recovered: the process sending it died"
    }
    for row in held:  # a late outcome of the dead owner is not recorded
        assert await a.write(lambda tx, r=row: tx.finish(r.id, "host:1:a", status="sent")) is False
    assert await b.recover_dead_senders() == 0


async def test_postgres_owners_not_registered_wait_for_their_lease(open_pg):
    a = await open_pg()
    await a.register_sender("host:1:a")
    await a.write(lambda tx: tx.insert_journal(pending(2)))
    await a.write(
        lambda tx: tx.claim_due(
            now=NOW, channel="email", limit=2, owner="an older vestnik", lease_until=LEASE
        )
    )
    assert await a.recover_dead_senders() == 0
    assert await a.write(lambda tx: tx.recover_expired(LEASE + timedelta(seconds=1))) == 2


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_one_sender_per_file_and_a_dead_runs_rows_settled_at_start(database_url):
    first = open_storage(database_url)
    await first.open()
    try:
        await first.write(lambda tx: tx.insert_journal(pending(4)))
        assert await first.register_sender("host:1:a") == 0
        await first.write(
            lambda tx: tx.claim_due(
                now=NOW, channel="email", limit=4, owner="host:1:a", lease_until=LEASE
            )
        )
        second = open_storage(database_url)
        await second.open()
        try:
            with pytest.raises(DatabaseInUse) as refused:
                await second.register_sender("host:2:b")
            assert refused.value.pid == os.getpid()
        finally:
            await second.close()
    finally:
        await first.close()  # the process "dies" holding four rows
    restarted = open_storage(database_url)
    await restarted.open()
    try:
        assert await restarted.register_sender("host:3:c") == 4
        async with restarted.reader() as tx:
            rows = await tx.list_journal({"limit": 10})
        assert [r.status for r in rows] == ["pending"] * 4
    finally:
        await restarted.close()
