"""Telegram channel benchmark: 3,000 notifications to 3,000 linked chats through the fake Bot
API, which enforces a messages/second limit with 429s (sliding one-second window).

Two modes:

- ``--mode app`` (default): the whole service in this process — events posted to the webhook,
  planned into the journal, claimed by the dispatcher, sent by the TelegramSender; attempts are
  read back from the journal;
- ``--mode sender``: only the TelegramSender, driven by a dispatcher-like pool of workers
  (``sender.concurrency`` of them) that requeue what comes back without an attempt.

Prints: sustained rate (first to last accepted message) against the limit, lost, duplicated,
429 answers, early retries (sent before retry_after elapsed) and attempts lost to 429.

    python bench/telegram.py [--mode app|sender] [--messages 3000] [--limit 30] [--rate 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.config import TelegramConfig  # noqa: E402
from bot.core.sending import OutgoingMessage, SendError  # noqa: E402
from bot.keys import STORAGE
from senders.telegram import TelegramSender, build_bot  # noqa: E402
from senders.telegram_limits import LocalRateLimiter  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegram  # noqa: E402

FIRST_CHAT = 10_000


def report(
    fake: FakeTelegram, messages: int, limit: float, elapsed: float, attempts: dict[int, int]
) -> None:
    delivered = Counter(s.chat_id for s in fake.sent)
    times = sorted(s.at for s in fake.sent)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    refused = sum(1 for _, code, _ in fake.rejected if code == 429)
    lost = messages - len(delivered)
    duplicated = sum(n - 1 for n in delivered.values() if n > 1)
    extra_attempts = sum(n - 1 for n in attempts.values() if n > 1)
    print(f"messages            {messages}")
    print(f"wall time           {elapsed:.1f} s")
    print(
        f"sustained rate      {rate:.2f} msg/s = {100 * rate / limit:.1f}% of the "
        f"{limit:g}/s limit (goal >= 95%)"
    )
    print(f"lost                {lost}")
    print(f"duplicated          {duplicated}")
    print(f"429 answers         {refused} (early retries: {fake.early_retries})")
    print(f"attempts lost to 429 {extra_attempts} (rows with more than one attempt; goal 0)")


# sender mode --------------------------------------------------------------------------------------
async def run_sender(messages: int, limit: float, rate: float) -> None:
    async with FakeTelegram(rate_limit=limit) as fake:
        bot = build_bot(TelegramConfig(token=TOKEN, api_base=fake.base_url))
        sender = TelegramSender(
            bot, limiter=LocalRateLimiter(rate), rate_per_second=rate, max_wait=60
        )
        queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
        for i in range(messages):
            queue.put_nowait((FIRST_CHAT + i, 0.0))
        attempts: dict[int, int] = Counter()
        done = 0

        async def worker() -> None:
            nonlocal done
            while done < messages:
                try:
                    chat, not_before = await asyncio.wait_for(queue.get(), 0.5)
                except TimeoutError:
                    continue
                delay = not_before - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                message = OutgoingMessage(
                    row_id=chat,
                    channel="telegram",
                    address=str(chat),
                    text=f"Заказ <b>ЗН-{chat}</b> готов к выдаче",
                )
                try:
                    await sender.send(message)
                    attempts[chat] += 1
                    done += 1
                except SendError as exc:  # what the dispatcher would do with the row
                    if exc.counts_as_attempt:
                        attempts[chat] += 1
                    wait = exc.retry_after if exc.retry_after is not None else 1.0
                    queue.put_nowait((chat, time.monotonic() + wait))

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(sender.concurrency)))
        elapsed = time.monotonic() - started
        await bot.session.close()
        print(f"mode                sender ({sender.concurrency} workers, bot rate {rate:g}/s)")
        report(fake, messages, limit, elapsed, attempts)


# app mode -----------------------------------------------------------------------------------------
RULE = """
[[rules]]
name = "ready, customer"
event = "repair_completed"
recipients = ["customer"]
channels = ["telegram"]
body = "Заказ <b>{{ order.number }}</b> готов к выдаче, {{ customer.name }}"
"""


async def run_app(messages: int, limit: float, rate: float) -> None:
    import aiohttp
    from aiohttp import web

    from bot.app import init_app
    from bot.core.config import load_config
    from bot.pipeline.rule_file import import_rules
    from storage.models import Person, TelegramLink

    async with FakeTelegram(rate_limit=limit) as fake:
        folder = Path(tempfile.mkdtemp(prefix="vestnik-tg-bench-"))
        config_path = folder / "config.toml"
        config_path.write_text("", encoding="utf-8")
        config = load_config(
            config_path,
            environ={},
            overrides={
                "service": {"database": f"sqlite:///{folder}/vestnik.db", "log_level": "WARNING"},
                "webhook": {"listen": "127.0.0.1:0"},
                "telegram": {"token": TOKEN, "api_base": fake.base_url, "rate_per_second": rate},
            },
        )
        app = init_app(config)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{config.webhook.path}"
        storage = app[STORAGE]
        await import_rules(storage, RULE)

        async def link_all(tx: Any) -> None:
            for i in range(messages):
                chat = FIRST_CHAT + i
                await tx.upsert_person(
                    Person(kind="customer", id=f"C-{chat}", name=f"Клиент {chat}", phone=None)
                )
                await tx.upsert_link(
                    TelegramLink(chat_id=chat, user_id=chat, phone=None, customer_id=f"C-{chat}")
                )

        await storage.write(link_all)
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            for first in range(0, messages, 500):
                events = [
                    {
                        "id": f"bench-{FIRST_CHAT + i}",
                        "type": "repair_completed",
                        "customer": {"id": f"C-{FIRST_CHAT + i}"},
                        "order": {"id": f"O-{i}", "number": f"ЗН-{i}"},
                    }
                    for i in range(first, min(first + 500, messages))
                ]
                async with session.post(url, json={"events": events}) as response:
                    assert response.status == 202, await response.text()
        while True:
            async with storage.reader() as tx:
                counts = await tx.counts()
            telegram = counts.get("telegram", {})
            if telegram.get("sent", 0) + telegram.get("failed", 0) >= messages:
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
        async with storage.reader() as tx:
            rows = await tx.list_journal({"channel": "telegram", "limit": messages + 10})
        attempts = {int(r.address or 0): r.attempts for r in rows}
        failed = [r for r in rows if r.status != "sent"]
        await runner.cleanup()
        print(
            f"mode                app (webhook -> journal -> dispatcher -> telegram, "
            f"bot rate {rate:g}/s)"
        )
        report(fake, messages, limit, elapsed, attempts)
        print(f"rows not sent       {len(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["app", "sender"], default="app")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--limit", type=float, default=30, help="the fake's messages/s")
    parser.add_argument("--rate", type=float, default=30, help="telegram.rate_per_second")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runner = run_app if args.mode == "app" else run_sender
    asyncio.run(runner(args.messages, args.limit, args.rate))


if __name__ == "__main__":
    main()
