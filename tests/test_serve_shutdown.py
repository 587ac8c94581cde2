"""``vestnik serve`` stopped by SIGTERM while the ERP is posting: it exits 0 within its
shutdown timeout, and every event it answered 202 is in the journal with its notification.

Each round runs the real service as a subprocess; clients keep posting until the socket
closes. (A shutdown that let asyncio cancel every task at once hung or crashed here about
one time in seven with 64 clients posting 100-event batches; this lighter load keeps the suite fast.)
"""

from __future__ import annotations

import asyncio
import itertools
import signal

import aiohttp

from storage.open import open_storage
from storage.tx_journal import JournalFilter
from tests.conftest import booked
from tests.fakes.smtp import SmtpServer
from tests.test_crash_recovery import free_port, vestnik, wait_healthy, write_config
from tests.test_cross_process import cli

ROUNDS = 2
CLIENTS = 16


async def post_until_closed(url: str, accepted: list[str], numbers: itertools.count) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            n = next(numbers)
            events = [
                booked(
                    f"s-{n}-{i}",
                    customer={"id": f"C-{n % 40}", "email": f"c{n}@example.ru"},
                    order={"id": f"O-{n}-{i}", "number": f"ЗН-{n}-{i}"},
                )
                for i in range(50)
            ]
            try:
                async with session.post(url + "/events", json={"events": events}) as response:
                    if response.status == 202:
                        accepted.extend((await response.json())["accepted"])
                    elif response.status != 503:  # 503: shutting down, try again
                        raise AssertionError(f"{response.status}: {await response.text()}")
            except (aiohttp.ClientConnectionError, aiohttp.ServerDisconnectedError):
                return


async def test_sigterm_while_the_erp_posts_exits_cleanly_and_keeps_what_it_accepted(
    tmp_path, database_url
):
    with SmtpServer() as smtp:
        port = free_port()
        config = write_config(tmp_path, smtp.port, port, database_url)
        assert cli("migrate", "--config", str(config)).returncode == 0
        rules = cli("rules", "import", str(tmp_path / "rules.toml"), "--config", str(config))
        assert rules.returncode == 0, rules.stderr
        url = f"http://127.0.0.1:{port}"
        accepted: list[str] = []
        numbers = itertools.count()
        for _ in range(ROUNDS):
            serve = vestnik("serve", "--config", str(config))
            try:
                await wait_healthy(url, serve)
                clients = [
                    asyncio.create_task(post_until_closed(url, accepted, numbers))
                    for _ in range(CLIENTS)
                ]
                await asyncio.sleep(1.5)
                serve.send_signal(signal.SIGTERM)
                await asyncio.wait_for(asyncio.gather(*clients), 60)
                code = await asyncio.to_thread(serve.wait, 60)
                output = serve.stdout.read().decode(errors="replace") if serve.stdout else ""
                assert code == 0, output[-3000:]
            finally:
                if serve.poll() is None:
                    serve.kill()
                    serve.wait()
        assert len(accepted) >= ROUNDS * 50  # every round accepted something
        assert sorted(await journal_event_ids(database_url)) == sorted(accepted)  # one row each


async def journal_event_ids(database: str) -> list[str]:
    storage = open_storage(database)
    await storage.open()
    try:
        async with storage.reader() as tx:
            rows = await tx.list_journal(JournalFilter(limit=1_000_000))
        return [row.event_id for row in rows]
    finally:
        await storage.close()
