"""Two ``vestnik serve`` processes on one PostgreSQL database, the bot in webhook mode: the
same customer message delivered to both (Telegram retrying, a load balancer) is handled
once — one copy to the staff, one stored message."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import asyncpg
import pytest

from tests.conversation_fixtures import copies
from tests.fakes.smtp import free_port
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message
from tests.test_multiprocess import Serve, wait_for

pytestmark = pytest.mark.postgres
ADMIN = 500
SECRET = "conversations-test-secret"


def write_config(folder, database: str, port: int, api_base: str):
    path = folder / f"config-{port}.toml"
    path.write_text(
        f'''
[service]
database = "{database}?pool_max=4"
log_level = "WARNING"

[webhook]
listen = "127.0.0.1:{port}"

[telegram]
token = "{TOKEN}"
api_base = "{api_base}"
admins = [{ADMIN}]
mode = "webhook"
webhook_url = "http://127.0.0.1:{port}"
webhook_secret = "{SECRET}"
''',
        encoding="utf-8",
    )
    return path


async def stored_messages(database: str) -> int:
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetchval("SELECT COUNT(*) FROM conversation_messages")
    finally:
        await conn.close()


async def test_the_same_update_sent_to_two_processes_is_handled_once(tmp_path, postgres_database):
    async with FakeTelegram() as fake, aiohttp.ClientSession() as session:
        servers = []
        try:
            for _ in range(2):
                port = free_port()
                config = write_config(tmp_path, postgres_database, port, fake.base_url)
                servers.append(Serve(config, port, tmp_path / f"serve-{port}.log"))
            for server in servers:
                await wait_for(
                    lambda s=server: s.health(session), f"{server.url} healthy", timeout=180
                )
            update = {"update_id": 1, **message(3003, "Один раз, пожалуйста")}
            fake.messages[(3003, update["message"]["message_id"])] = update["message"]

            async def post(server: Serve) -> int:
                async with session.post(
                    server.url + "/telegram",
                    data=json.dumps(update),
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": SECRET,
                    },
                ) as response:
                    return response.status

            assert await asyncio.gather(*(post(s) for s in servers)) == [200, 200]

            async def copied() -> bool:
                return bool(copies(fake, ADMIN))

            await wait_for(copied, "the copy reached the admin")
            # the other process had the same update: give it the time to (not) answer too
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                assert len(copies(fake, ADMIN)) == 1
                await asyncio.sleep(0.1)
            assert await stored_messages(postgres_database) == 1
            acks = [s for s in fake.to(3003) if "Передал ваше сообщение" in s.text]
            assert len(acks) == 1
        finally:
            for server in servers:
                server.proc.terminate()
            for server in servers:
                server.proc.wait(timeout=30)
