"""SMS benchmark, part 1 (portals): 1,000 SMS through the local sms.ru fake via SmsSender with
8 sends in flight, printing messages/s and the number of TCP connections the fake saw — a
handful, not a thousand, because the injected aiohttp session keeps them alive.

    python bench/sms.py [--count 1000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.config import SmsConfig  # noqa: E402
from bot.core.sending import OutgoingMessage  # noqa: E402
from senders.sms import SmsSender  # noqa: E402
from tests.fakes.sms_portals import SmsPortalsServer  # noqa: E402

TEXT = "Автосервис Север: ваш автомобиль готов, ждём вас до 20:00."


async def bench_portal(count: int = 1000, concurrency: int = 8) -> dict[str, float]:
    """Send ``count`` SMS with ``concurrency`` in flight; print and return the figures."""
    async with SmsPortalsServer() as portals, aiohttp.ClientSession() as session:
        entry = portals.entry("smsru", max_connections=concurrency)
        sender = SmsSender(SmsConfig.model_validate({"portals": [entry]}), session)
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            message = OutgoingMessage(row_id=n, channel="sms", address=f"+7916{n:07d}", text=TEXT)
            async with gate:
                await sender.send(message)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
        fake = portals.fakes["smsru"]
        figures = {
            "sent": len(fake.sent),
            "seconds": elapsed,
            "per_second": count / elapsed,
            "connections": len(fake.peers),
        }
    print(
        f"portal: {figures['sent']:.0f} SMS through the sms.ru fake in {elapsed:.2f} s = "
        f"{figures['per_second']:.0f} msg/s with {concurrency} in flight; the portal saw "
        f"{figures['connections']:.0f} TCP connections"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(bench_portal(args.count, args.concurrency))


if __name__ == "__main__":
    main()
