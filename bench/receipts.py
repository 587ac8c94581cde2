"""Delivery-receipt benchmark: sms.ru status callbacks through ``POST /receipts/<portal>/...``
while the journal holds ``--rows`` sent SMS (default 1,000,000, built with bulk SQL).

A real ``vestnik serve`` runs in its own process; ``vestnik receipt-urls`` gives the callback
address (and so the secret). ``--clients`` concurrent posters then send ``--receipts``
callbacks (one ``data[]`` entry each, as sms.ru posts them) for distinct random rows, three
in four "delivered" (103), the rest "expired" (104). Reported: receipts per minute, and the
latency of one callback (median, p99). Afterwards the journal is counted to check that every
receipt was applied.

    python bench/receipts.py                                        # SQLite, 1M rows
    python bench/receipts.py --database postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, start_vestnik, wait_ready

TARGET_PER_MINUTE = 10_000
JOURNAL = """
INSERT INTO journal (event_id, event_type, rule, recipient_role, recipient_id, channel,
    provider, address, text, segments, created_at, due_at, sent_at, attempts,
    provider_message_id, status, options)
SELECT 'b-' || n, 'order_booked', 'booked, sms', 'customer', 'C-' || n, 'sms', 'smsru',
    '+7916' || (1000000 + n), 'Ваш автомобиль записан на ремонт', 1, {t}, {t}, {t}, 1,
    '000000-' || n, 'sent', '{{}}'
FROM {series}
"""


def write_config(folder: Path, port: int, database: str) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f"""
[service]
database = "{database}"
log_level = "WARNING"

[webhook]
listen = "127.0.0.1:{port}"
tokens = ["bench-token"]

[receipts]
public_url = "http://127.0.0.1:{port}"
poll_every = "1h"

[alerts]
enabled = false

[[sms.portals]]
name = "smsru"
kind = "smsru"
api_id = "bench-api-id"
base_url = "http://127.0.0.1:9"
""",
        encoding="utf-8",
    )
    return path


def vestnik(config: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def prefill(database: str, rows: int) -> float:
    started = time.monotonic()
    if database.startswith("sqlite"):
        db = sqlite3.connect(database.removeprefix("sqlite:///"))
        series = (
            f"(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g"
            f" WHERE n < {rows}) SELECT n FROM g)"
        )
        db.execute(JOURNAL.format(t="'2026-11-30T10:00:00.000Z'", series=series))
        db.commit()
        db.execute("ANALYZE")
        db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(database.split("?")[0])
        try:
            await conn.execute(
                JOURNAL.format(
                    t="timestamptz '2026-11-30 10:00:00+00'",
                    series=f"generate_series(1, {rows}) AS n",
                )
            )
            await conn.execute("VACUUM ANALYZE journal")
        finally:
            await conn.close()
    return time.monotonic() - started


async def count_settled(database: str) -> int:
    sql = "SELECT COUNT(*) FROM journal WHERE status IN ('delivered', 'undelivered')"
    if database.startswith("sqlite"):
        db = sqlite3.connect(database.removeprefix("sqlite:///"))
        try:
            return int(db.execute(sql).fetchone()[0])
        finally:
            db.close()
    import asyncpg

    conn = await asyncpg.connect(database.split("?")[0])
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def post_receipts(url: str, ids: list[int], clients: int) -> tuple[float, list[float], int]:
    """(seconds, per-callback latencies, errors)."""
    queue = list(ids)
    latencies: list[float] = []
    errors = 0
    stamp = str(int(time.time()))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:

        async def client() -> None:
            nonlocal errors
            while queue:
                n = queue.pop()
                code = 103 if n % 4 else 104
                form = {"data[0]": f"sms_status\n000000-{n}\n{code}\n{stamp}"}
                started = time.perf_counter()
                async with session.post(url, data=form) as response:
                    body = await response.text()
                latencies.append(time.perf_counter() - started)
                if response.status != 200 or body != "100":
                    if not errors:
                        print(f"first error: HTTP {response.status}: {body[:200]}", flush=True)
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.monotonic() - started, latencies, errors


async def run(args: argparse.Namespace, folder: Path, database: str) -> None:
    port = free_port()
    config = write_config(folder, port, database)
    vestnik(config, "migrate")
    seconds = await prefill(database, args.rows)
    print(f"prefilled {args.rows:,} sent SMS rows in {seconds:.0f} s", flush=True)
    [line] = vestnik(config, "receipt-urls").splitlines()
    url = line.split(": ", 1)[1]
    server = start_vestnik(config)
    try:
        await wait_ready(f"http://127.0.0.1:{port}/healthz", timeout=300)  # a busy machine
        ids = random.Random(7).sample(range(1, args.rows + 1), args.receipts)
        elapsed, latencies, errors = await post_receipts(url, ids, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    settled = await count_settled(database)
    per_minute = len(latencies) / elapsed * 60
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"{len(latencies):,} callbacks from {args.clients} clients in {elapsed:.1f} s: "
        f"{per_minute:,.0f} receipts/min ({per_minute / TARGET_PER_MINUTE:.1f}x the "
        f"{TARGET_PER_MINUTE:,}/min target); latency median {cut[49] * 1000:.1f} ms, "
        f"p99 {cut[98] * 1000:.1f} ms; {errors} errors; {settled:,} rows settled"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        default="",
        help="PostgreSQL server URL (default: "
        "a temporary SQLite file); a new database is made there and dropped",
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.database:
            await run(args, folder, f"sqlite:///{folder}/bench.db")
            return
        import asyncpg

        name = f"vestnik_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.database)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(args, folder, f"{args.database.rsplit('/', 1)[0]}/{name}")
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
