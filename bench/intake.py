"""Intake and delivery benchmark, for SQLite and for PostgreSQL with 1, 2 or 3 processes.

For each process count: events/s accepted over HTTP on loopback (64 concurrent clients,
single events and 100-event batches, spread over every process), then notifications/s: the
time to deliver ``--drain`` emails to a local aiosmtpd from the first post to the last
delivery. Every figure runs on a fresh database (a temporary SQLite file, or a new database
created on the PostgreSQL server of ``--database`` and dropped afterwards). ``--prefill N``
adds the single-event intake rate with N finished journal rows already present, beside the
empty database's. The bare aiohttp handler that only answers 202 is the yardstick.

    python bench/intake.py                                   # SQLite, one process
    python bench/intake.py --database postgresql://postgres@127.0.0.1/postgres \\
        --processes 1,2,3 --prefill 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, load, start_vestnik, wait_ready

RULE = """
[[rules]]
name = "booked"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
"""


def event(worker: int, n: int, i: int = 0, run: str = "") -> dict[str, object]:
    return {
        "id": f"{run}-{worker}-{n}-{i}",
        "type": "order_booked",
        "customer": {
            "id": f"C-{worker}-{n % 50}",
            "name": "Иван Петров",
            "phone": "+79161234567",
            "email": f"c{worker}-{n}-{i}@example.ru",
        },
        "order": {
            "id": f"O-{worker}-{n}",
            "number": f"ЗН-{n}",
            "amount": 15000,
            "planned_start": "2026-12-01T10:00:00",
        },
    }


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
    path.write_text(
        f"""
[service]
database = "{database}"
log_level = "WARNING"
quiet_hours = ""  # (customers' default is 21:00-09:00: a night run would hold every email)

[webhook]
listen = "127.0.0.1:{port}"
{email}""",
        encoding="utf-8",
    )
    return path


def import_rules(folder: Path, config: Path) -> None:
    """Create the schema (the CLI's other commands refuse to), then import the rule."""
    (folder / "rules.toml").write_text(RULE, encoding="utf-8")
    for command in (["migrate"], ["rules", "import", str(folder / "rules.toml")]):
        subprocess.run(
            [sys.executable, "-m", "bot", *command, "--config", str(config)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


# fresh databases ----------------------------------------------------------------------------------
@asynccontextmanager
async def fresh_database(base: str | None, folder: Path) -> AsyncIterator[str]:
    """A new SQLite file, or a new database on the PostgreSQL server of ``base``."""
    if base is None or base.startswith("sqlite"):
        yield f"sqlite:///{folder}/bench-{uuid.uuid4().hex[:8]}.db"
        return
    import asyncpg

    name = f"vestnik_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    server, _, rest = base.rpartition("/")
    query = rest.partition("?")[2]
    try:
        yield f"{server}/{name}" + (f"?{query}" if query else "")
    finally:
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


PREFILL_EVENTS = """
INSERT INTO events (id, type, occurred_at, received_at, order_id, order_number, payload)
SELECT 'pre-' || n, 'order_booked', {t}, {t}, 'PO-' || n, 'ЗН-' || n, '{{}}' FROM {series}"""
PREFILL_JOURNAL = """
INSERT INTO journal (event_id, event_type, rule, recipient_role, recipient_id, channel, provider,
                     address, subject, text, created_at, due_at, sent_at, attempts, status,
                     order_id, options)
SELECT 'pre-' || n, 'order_booked', 'booked', 'customer', 'C-' || (n % 50000), 'email', 'main',
       'c' || (n % 50000) || '@example.ru', 'Запись', 'Вы записаны на 1 декабря, 10:00',
       {t}, {t}, {t}, 1, 'sent', 'PO-' || n, '{{}}' FROM {series}"""


async def prefill(database: str, rows: int) -> float:
    """``rows`` finished events and journal rows, as months of work leave them."""
    started = time.monotonic()
    if database.startswith("sqlite"):
        path = database.removeprefix("sqlite:///")
        series = (
            f"(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g"
            f" WHERE n < {rows}) SELECT n FROM g)"
        )
        db = sqlite3.connect(path)
        stamp = "'2026-10-01T10:00:00.000Z'"
        for sql in (PREFILL_EVENTS, PREFILL_JOURNAL):
            db.execute(sql.format(t=stamp, series=series))
        db.commit()
        db.execute("ANALYZE")
        db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(database.split("?")[0])
        try:
            series = f"generate_series(1, {rows}) AS n"
            stamp = "timestamptz '2026-10-01 10:00:00+00'"
            for sql in (PREFILL_EVENTS, PREFILL_JOURNAL):
                await conn.execute(sql.format(t=stamp, series=series))
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    return time.monotonic() - started


# the local sink ------------------------------------------------------------------------------------
def _sink(port: int, delay: float, counter: Any, ready: Any) -> None:
    """An SMTP server that only counts messages (parsing them would make the sink, not
    Vestnik, the bottleneck), in a process of its own."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if delay:
                await asyncio.sleep(delay)  # a relay's latency
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    threading.Event().wait()


@contextmanager
def smtp_sink(delay: float) -> Iterator[tuple[int, Any]]:
    """(port, counter): ``counter.value`` is the number of messages received."""
    port = free_port()
    counter, ready = multiprocessing.Value("q", 0), multiprocessing.Event()
    process = multiprocessing.Process(target=_sink, args=(port, delay, counter, ready), daemon=True)
    process.start()
    try:
        if not ready.wait(15):
            raise RuntimeError("the SMTP sink did not start")
        yield port, counter
    finally:
        process.terminate()
        process.join()


# the measurements ----------------------------------------------------------------------------------
async def bare_rate(args: argparse.Namespace) -> float:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "bare_server.py"), str(port)]
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}/")
        rate, _, _ = await load(
            f"http://127.0.0.1:{port}/events",
            lambda w, n: event(w, n),
            clients=args.clients,
            seconds=args.seconds,
            events_per_request=1,
        )
        return rate
    finally:
        proc.terminate()
        proc.wait()


@asynccontextmanager
async def vestnik_processes(
    folder: Path, database: str, processes: int, smtp_port: int | None, prefill_rows: int = 0
) -> AsyncIterator[list[int]]:
    ports = [free_port() for _ in range(processes)]
    configs = [write_config(folder, port, database, smtp_port) for port in ports]
    import_rules(folder, configs[0])
    if prefill_rows:
        seconds = await prefill(database, prefill_rows)
        print(f"  (prefilled {prefill_rows:,} journal rows in {seconds:.0f} s)", flush=True)
    procs = [start_vestnik(config) for config in configs]
    try:
        for port in ports:
            await wait_ready(f"http://127.0.0.1:{port}/healthz", timeout=60)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


async def multi_load(urls: list[str], make, args: argparse.Namespace, per: int) -> float:  # type: ignore[no-untyped-def]
    per_url = max(1, args.clients // len(urls))
    results = await asyncio.gather(
        *(
            load(url, make, clients=per_url, seconds=args.seconds, events_per_request=per)
            for url in urls
        )
    )
    errors = sum(r[2] for r in results)
    if errors:
        print(f"  ({errors} requests failed)")
    return sum(r[0] for r in results)


async def intake_rates(
    args: argparse.Namespace,
    folder: Path,
    processes: int,
    prefill_rows: int = 0,
    batches: bool = True,
) -> tuple[float, float]:
    async with fresh_database(args.database, folder) as database:
        async with vestnik_processes(folder, database, processes, None, prefill_rows) as ports:
            urls = [f"http://127.0.0.1:{port}/events" for port in ports]
            single = await multi_load(urls, lambda w, n: event(w, n, run="s"), args, 1)
            batch = 0.0
            if batches:
                batch = await multi_load(
                    urls,
                    lambda w, n: {"events": [event(w, n, i, run="b") for i in range(100)]},
                    args,
                    100,
                )
            return single, batch


async def drain(args: argparse.Namespace, folder: Path, processes: int) -> tuple[float, int]:
    """notifications/s: ``--drain`` emails, from the first post to the last delivery."""
    count = args.drain
    with smtp_sink(args.smtp_delay) as (smtp_port, received):
        async with fresh_database(args.database, folder) as database:
            async with vestnik_processes(folder, database, processes, smtp_port) as ports:
                started = time.monotonic()
                async with aiohttp.ClientSession() as session:

                    async def post(chunk: int) -> None:
                        url = f"http://127.0.0.1:{ports[chunk % len(ports)]}/events"
                        body = {"events": [event(chunk, 0, i, run="d") for i in range(100)]}
                        async with session.post(
                            url, data=json.dumps(body), headers={"Content-Type": "application/json"}
                        ) as response:
                            assert response.status == 202, await response.text()

                    await asyncio.gather(*(post(chunk) for chunk in range(count // 100)))
                while received.value < count and time.monotonic() - started < 600:
                    await asyncio.sleep(0.02)
                return time.monotonic() - started, int(received.value)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument(
        "--database",
        default=None,
        help="postgresql://... (a server; each run gets a new database "
        "there); default: temporary SQLite files",
    )
    parser.add_argument("--processes", default="1", help="process counts to compare, e.g. 1,2,3")
    parser.add_argument("--drain", type=int, default=3000, help="emails per delivery run")
    parser.add_argument(
        "--smtp-delay",
        type=float,
        default=0.0,
        help="seconds the sink takes per message (a remote relay's latency)",
    )
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="also measure intake with this many journal rows present",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="empty/prefilled measurements, alternated (best of each)",
    )
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument(
        "--skip-intake", action="store_true", help="only the delivery (and --prefill) figures"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    backend = "PostgreSQL" if args.database and args.database.startswith("postgres") else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_bare:
            bare = await bare_rate(args)
            print(
                f"bare aiohttp 202 handler: {bare:10.0f} requests/s ({args.clients} clients)",
                flush=True,
            )
        results: dict[int, dict[str, float]] = {}
        for n in counts:
            single, batch = (0.0, 0.0) if args.skip_intake else await intake_rates(args, folder, n)
            results[n] = {"single": single, "batch": batch}
            line = (
                f"{backend}, {n} process(es): single events {single:8.0f} events/s,"
                f" 100-event batches {batch:8.0f} events/s"
            )
            if not args.skip_drain:
                seconds, delivered = await drain(args, folder, n)
                results[n]["notifications"] = delivered / seconds
                line += (
                    f", {delivered} emails in {seconds:5.1f} s ="
                    f" {delivered / seconds:6.0f} notifications/s"
                )
            print(line, flush=True)
        if not args.skip_drain and len(counts) > 1:
            one = results[counts[0]]["notifications"]
            for n in counts[1:]:
                print(
                    f"notifications/s, {n} processes vs {counts[0]}: "
                    f"{results[n]['notifications'] / one:.2f}x"
                )
        if args.prefill:
            # empty and full alternate, best of --rounds each: machine noise hits both alike
            empty_rates, full_rates = [], []
            for _ in range(args.rounds):
                empty_rates.append((await intake_rates(args, folder, 1, batches=False))[0])
                full_rates.append(
                    (await intake_rates(args, folder, 1, args.prefill, batches=False))[0]
                )
            empty, full = max(empty_rates), max(full_rates)
            print(
                f"{backend}, 1 process, single events: empty database {empty:8.0f} events/s,"
                f" {args.prefill:,} journal rows present {full:8.0f} events/s ="
                f" {full / empty:.0%} (goal >= 80%; rounds: "
                f"{', '.join(f'{e:.0f}/{f:.0f}' for e, f in zip(empty_rates, full_rates, strict=True))})"
            )


if __name__ == "__main__":
    asyncio.run(main())
