"""Intake benchmark: events/s accepted over HTTP on loopback with 64 concurrent clients,
single events and 100-event batches, against SQLite with durable commits — beside the same
machine's figure for a bare aiohttp handler that only answers 202. Then the time to drain
2,000 emails to a local aiosmtpd.

    python bench/intake.py [--seconds 10] [--clients 64] [--database URL] [--processes N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, load, start_vestnik, wait_ready  # noqa: E402
from tests.fakes.smtp import SmtpServer  # noqa: E402

RULE = """
[[rules]]
name = "booked"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
"""


def event(worker: int, n: int, i: int = 0, run: str = "") -> dict[str, object]:
    return {"id": f"{run}-{worker}-{n}-{i}", "type": "order_booked",
            "customer": {"id": f"C-{worker}-{n % 50}", "name": "Иван Петров",
                         "phone": "+79161234567", "email": f"c{worker}@example.ru"},
            "order": {"id": f"O-{worker}-{n}", "number": f"ЗН-{n}", "amount": 15000,
                      "planned_start": "2026-12-01T10:00:00"}}


def write_config(folder: Path, port: int, database: str, smtp_port: int | None) -> Path:
    email = ""
    if smtp_port:
        email = f"""
[[email.accounts]]
name = "main"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from_address = "bench@example.ru"
max_connections = 8
"""
    path = folder / f"config-{port}.toml"
    path.write_text(f"""
[service]
database = "{database}"
log_level = "WARNING"

[webhook]
listen = "127.0.0.1:{port}"
{email}""", encoding="utf-8")
    (folder / "rules.toml").write_text(RULE, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bot", "rules", "import", str(folder / "rules.toml"),
                    "--config", str(path)], check=True, stdout=subprocess.DEVNULL)
    return path


async def bare_rate(args: argparse.Namespace) -> float:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "bare_server.py"),
                             str(port)])
    try:
        await wait_ready(f"http://127.0.0.1:{port}/")
        rate, _, _ = await load(f"http://127.0.0.1:{port}/events", lambda w, n: event(w, n),
                                clients=args.clients, seconds=args.seconds,
                                events_per_request=1)
        return rate
    finally:
        proc.terminate()
        proc.wait()


async def vestnik_rates(args: argparse.Namespace, folder: Path) -> tuple[float, float]:
    database = args.database or f"sqlite:///{folder}/intake.db"
    ports = [free_port() for _ in range(args.processes)]
    procs = [start_vestnik(write_config(folder, port, database, None)) for port in ports]
    try:
        for port in ports:
            await wait_ready(f"http://127.0.0.1:{port}/healthz")
        urls = [f"http://127.0.0.1:{port}/events" for port in ports]
        single = await multi_load(urls, lambda w, n: event(w, n, run="s"), args, 1)
        batch = await multi_load(
            urls, lambda w, n: {"events": [event(w, n, i, run="b") for i in range(100)]},
            args, 100)
        return single, batch
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()


async def multi_load(urls: list[str], make, args: argparse.Namespace, per: int) -> float:  # type: ignore[no-untyped-def]
    per_url = max(1, args.clients // len(urls))
    results = await asyncio.gather(*(load(url, make, clients=per_url, seconds=args.seconds,
                                          events_per_request=per) for url in urls))
    errors = sum(r[2] for r in results)
    if errors:
        print(f"  ({errors} requests failed)")
    return sum(r[0] for r in results)


async def drain(args: argparse.Namespace, folder: Path, count: int = 2000) -> tuple[float, int]:
    database = args.database or f"sqlite:///{folder}/drain.db"
    with SmtpServer() as smtp:
        ports = [free_port() for _ in range(args.processes)]
        configs = [write_config(folder, port, database, smtp.port) for port in ports]
        procs = [start_vestnik(config) for config in configs]
        try:
            for port in ports:
                await wait_ready(f"http://127.0.0.1:{port}/healthz")
            started = time.monotonic()
            async with aiohttp.ClientSession() as session:
                for chunk in range(count // 100):
                    url = f"http://127.0.0.1:{ports[chunk % len(ports)]}/events"
                    body = {"events": [event(chunk, 0, i, run="d") for i in range(100)]}
                    async with session.post(url, data=json.dumps(body),
                                            headers={"Content-Type": "application/json"}) as r:
                        assert r.status == 202, await r.text()
            while len(smtp.recorder.messages) < count and time.monotonic() - started < 600:
                await asyncio.sleep(0.05)
            return time.monotonic() - started, len(smtp.recorder.messages)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = await bare_rate(args)
        single, batch = await vestnik_rates(args, folder)
        print(f"bare aiohttp 202 handler:   {bare:10.0f} requests/s ({args.clients} clients)")
        print(f"vestnik single events:      {single:10.0f} events/s  "
              f"({single / bare:.0%} of bare; goal >= 50%)")
        print(f"vestnik 100-event batches:  {batch:10.0f} events/s  (goal >= 20,000)")
        if not args.skip_drain:
            seconds, delivered = await drain(args, folder)
            print(f"drain 2,000 emails to aiosmtpd: {seconds:.1f} s, {delivered} delivered "
                  f"({delivered / seconds:.0f} emails/s)")


if __name__ == "__main__":
    asyncio.run(main())
