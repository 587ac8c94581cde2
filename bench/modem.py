"""Modem lane benchmark: how busy the dispatcher keeps each GSM modem.

The whole service runs in this process (webhook -> planner -> journal -> dispatcher -> modem
pool) against pty modem emulators that take ``--delay`` seconds per SMS, like a real stick
(the modem AT manuals: 2-10 s). ``--per-modem`` rows per modem are due at once.

Prints, for one modem and then for two in a pool:
- busy fraction: time spent inside the modem's send / wall time from the first send's start
  to the last one's end (goal >= 95%: the lane never leaves a modem idle while rows are due);
- rate in SMS/minute (two modems should nearly double it).

    python bench/modem.py [--delay 3] [--per-modem 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.keys import SENDERS, STORAGE
from tests.fakes.modem import FakeModem  # noqa: E402

RULE = """
[[rules]]
name = "ready, customer, by modem"
event = "repair_completed"
recipients = ["customer"]
channels = ["modem"]
body = "Avtoservis Sever: zakaz {{ order.number }} gotov, zhdem vas do 20:00."
"""


async def run_lane(modems: int, per_modem: int, delay: float) -> dict[str, float]:
    """``modems`` emulators, ``modems * per_modem`` rows due; return the figures."""
    import aiohttp
    from aiohttp import web

    from bot.app import init_app
    from bot.core.config import load_config
    from bot.pipeline.rule_file import import_rules
    from senders.modem import ModemPool

    folder = Path(tempfile.mkdtemp(prefix="vestnik-modem-bench-"))
    fakes = [FakeModem(folder / f"ttyGSM{i}", cmgs_delay=delay) for i in range(modems)]
    config_path = folder / "config.toml"
    config_path.write_text("", encoding="utf-8")
    config = load_config(
        config_path,
        environ={},
        overrides={
            "service": {"database": f"sqlite:///{folder}/vestnik.db", "log_level": "WARNING"},
            "webhook": {"listen": "127.0.0.1:0"},
            "sms": {
                "modems": [
                    {"name": f"gsm{i}", "port": str(fake.port)} for i, fake in enumerate(fakes)
                ]
            },
        },
    )
    app = init_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        pool: ModemPool = app[SENDERS]["modem"]
        spans: list[tuple[float, float]] = []
        for modem in pool.modems.values():
            await asyncio.wait_for(modem.wait_ready(), 10)
            original = modem.send

            async def timed(number: str, text: str, _send: Any = original) -> list[int]:
                started = time.monotonic()
                try:
                    return await _send(number, text)
                finally:
                    spans.append((started, time.monotonic()))

            modem.send = timed  # type: ignore[method-assign]
        await import_rules(app[STORAGE], RULE)
        total = modems * per_modem
        events = [
            {
                "id": f"bench-{i}",
                "type": "repair_completed",
                "customer": {"id": f"C-{i}", "name": f"Client {i}", "phone": f"+7916{i:07d}"},
                "order": {"id": f"O-{i}", "number": f"ZN-{i}"},
            }
            for i in range(total)
        ]
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{config.webhook.path}"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"events": events}) as response:
                assert response.status == 202, await response.text()
        deadline = time.monotonic() + total * delay / modems + 60
        while sum(len(f.messages) for f in fakes) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)  # the last send's span is recorded after the modem answered
        first = min(start for start, _ in spans)
        last = max(end for _, end in spans)
        wall = last - first
        busy = sum(end - start for start, end in spans) / (wall * modems)
        delivered = sum(len(f.messages) for f in fakes)
        per_fake = [len(f.messages) for f in fakes]
    finally:
        await runner.cleanup()
        for fake in fakes:
            await fake.close()
    return {
        "modems": modems,
        "sent": delivered,
        "wall": wall,
        "busy": busy,
        "per_minute": delivered / wall * 60,
        "split": per_fake,
    }  # type: ignore[dict-item]


def show(figures: dict[str, Any], delay: float) -> None:
    print(
        f"{figures['modems']} modem(s): {figures['sent']} SMS in {figures['wall']:.1f} s "
        f"(split {figures['split']}), busy {100 * figures['busy']:.1f}% (goal >= 95%), "
        f"{figures['per_minute']:.1f} SMS/min (ideal {60 / delay * figures['modems']:.1f})"
    )


async def bench(delay: float, per_modem: int) -> None:
    one = await run_lane(1, per_modem, delay)
    show(one, delay)
    two = await run_lane(2, per_modem, delay)
    show(two, delay)
    print(f"two modems / one modem: {two['per_minute'] / one['per_minute']:.2f}x (ideal 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=3.0, help="emulator seconds per SMS")
    parser.add_argument("--per-modem", type=int, default=10, help="rows due per modem")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(bench(args.delay, args.per_modem))


if __name__ == "__main__":
    main()
