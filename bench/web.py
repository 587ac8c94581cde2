"""Web journal benchmark: the journal page with 1,000,000 rows in the database, answered by a
real ``vestnik serve``: the first page (with its total) and a search by phone (typed as a
manager would, ``8 (916) 000-01-23``). Goal: under 200 ms each, on SQLite and PostgreSQL.

    python bench/web.py                                   # SQLite, 1,000,000 rows
    python bench/web.py --database postgresql://postgres@127.0.0.1:5432/vestnik_bench_web
    python bench/web.py --rows 200000 --runs 20
    python bench/web.py --database sqlite:////tmp/web.db --reuse   # measure again, no fill

The rows are written with bulk SQL (a recursive CTE on SQLite, generate_series on
PostgreSQL) into a freshly migrated database: 20,000 customers, 50 rows each over e-mail,
SMS and Telegram, 2 % failed. The journal's indexes are dropped for the load and built again
afterwards (as a restore would), then the tables are analysed. Each page is fetched
``--runs`` times after one warm-up request; the figures are wall-clock times of the whole
HTTP request as the browser sees it (server-rendered HTML included).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, start_vestnik, wait_ready  # noqa: E402
from bot.core.config import load_config  # noqa: E402
from bot.services.web_login import WebIdentity, make_login_link  # noqa: E402
from storage.open import open_storage  # noqa: E402

CUSTOMERS = 20_000
COLUMNS = (
    "event_id, event_type, rule, recipient_role, recipient_id, recipient_name, channel,"
    " provider, address, subject, text, segments, created_at, due_at, sent_at,"
    " failed_at, error, attempts, provider_message_id, status, reason, order_id, options"
)
# one SELECT per backend producing the rows from a counter i = 1..N
SQLITE_FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO journal ({COLUMNS})
SELECT 'ev-' || (i / 2), CASE i % 4 WHEN 0 THEN 'order_booked' WHEN 1 THEN 'parts_arrived'
       WHEN 2 THEN 'payment_received' ELSE 'repair_completed' END,
       'rule ' || (i % 12), 'customer', 'C-' || (i % {CUSTOMERS}), 'Клиент ' || (i % {CUSTOMERS}),
       ch, ch, CASE ch WHEN 'email' THEN 'c' || (i % {CUSTOMERS}) || '@example.ru'
                       WHEN 'sms' THEN '+7916' || printf('%07d', i % {CUSTOMERS})
                       ELSE CAST(100000 + i % {CUSTOMERS} AS TEXT) END,
       'Заказ ЗН-' || printf('%06d', i / 2), 'Здравствуйте! Ваш заказ ЗН-' || printf('%06d', i / 2)
       || ' готов. Ждём вас с 9:00 до 20:00.', 1, ts, ts,
       CASE WHEN i % 50 = 0 THEN NULL ELSE ts END, CASE WHEN i % 50 = 0 THEN ts END,
       CASE WHEN i % 50 = 0 THEN '550 5.1.1 mailbox unavailable' END, 1, 'm-' || i,
       CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'sent' END, NULL, 'ORD-' || (i / 2), '{{}}'
FROM (SELECT i, CASE i % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'sms' ELSE 'telegram' END AS ch,
             strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (i * 25) || ' seconds') AS ts
      FROM n)
"""
POSTGRES_FILL = f"""
INSERT INTO journal ({COLUMNS})
SELECT 'ev-' || (i / 2), CASE i % 4 WHEN 0 THEN 'order_booked' WHEN 1 THEN 'parts_arrived'
       WHEN 2 THEN 'payment_received' ELSE 'repair_completed' END,
       'rule ' || (i % 12), 'customer', 'C-' || (i % {CUSTOMERS}), 'Клиент ' || (i % {CUSTOMERS}),
       ch, ch, CASE ch WHEN 'email' THEN 'c' || (i % {CUSTOMERS}) || '@example.ru'
                       WHEN 'sms' THEN '+7916' || lpad((i % {CUSTOMERS})::text, 7, '0')
                       ELSE (100000 + i % {CUSTOMERS})::text END,
       'Заказ ЗН-' || lpad((i / 2)::text, 6, '0'), 'Здравствуйте! Ваш заказ ЗН-'
       || lpad((i / 2)::text, 6, '0') || ' готов. Ждём вас с 9:00 до 20:00.', 1, ts, ts,
       CASE WHEN i % 50 = 0 THEN NULL ELSE ts END, CASE WHEN i % 50 = 0 THEN ts END,
       CASE WHEN i % 50 = 0 THEN '550 5.1.1 mailbox unavailable' END, 1, 'm-' || i,
       CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'sent' END, NULL, 'ORD-' || (i / 2), '{{}}'
FROM (SELECT i, CASE i % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'sms' ELSE 'telegram' END AS ch,
             timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => i * 25) AS ts
      FROM generate_series(1, $1::int) AS i) AS s
"""


def fill_sqlite(path: str, rows: int) -> None:
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    indexes = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal'"
            " AND sql IS NOT NULL"
        )
    ]
    names = [
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal'"
            " AND sql IS NOT NULL"
        )
    ]
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    for name in names:
        db.execute(f"DROP INDEX {name}")
    db.execute(SQLITE_FILL, (rows,))
    db.executemany(
        "INSERT INTO persons (kind, id, name, phone, email, updated_at)"
        " VALUES ('customer', ?, ?, ?, ?, '2026-01-01T00:00:00.000Z')",
        [(f"C-{n}", f"Клиент {n}", f"+7916{n:07}", f"c{n}@example.ru") for n in range(CUSTOMERS)],
    )
    for sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


async def fill_postgres(url: str, rows: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE"
            " tablename = 'journal' AND indexname <> 'journal_pkey'"
        )
        async with conn.transaction():
            for row in indexes:
                await conn.execute(f"DROP INDEX {row['indexname']}")
            await conn.execute(POSTGRES_FILL, rows)
            await conn.executemany(
                "INSERT INTO persons (kind, id, name, phone, email, updated_at)"
                " VALUES ('customer', $1, $2, $3, $4, now())",
                [
                    (f"C-{n}", f"Клиент {n}", f"+7916{n:07}", f"c{n}@example.ru")
                    for n in range(CUSTOMERS)
                ],
            )
            for row in indexes:
                await conn.execute(row["indexdef"])
        await conn.execute("VACUUM ANALYZE journal")
        await conn.execute("ANALYZE persons")
    finally:
        await conn.close()


async def timed(session: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    async with session.get(url) as response:  # warm-up
        body = await response.text()
        if response.status != 200 or 'id="total"' not in body:
            raise RuntimeError(f"{url}: {response.status}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    slowest = times.index(ordered[-1]) + 1
    print(
        f"  {name:34} median {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms"
        f"   max {ordered[-1]:6.1f} ms (request {slowest} of {len(times)})"
    )


async def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder}/web-bench.db"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return url
    import asyncpg

    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url


async def fill(args: argparse.Namespace, folder: Path) -> None:
    database = await fresh_database(args.database, folder)
    storage = open_storage(database)
    await storage.open()  # migrates
    await storage.close()
    started = time.perf_counter()
    if database.startswith("sqlite"):
        await asyncio.to_thread(fill_sqlite, database.removeprefix("sqlite:///"), args.rows)
    else:
        await fill_postgres(database, args.rows)
    print(
        f"{args.rows:,} journal rows written in {time.perf_counter() - started:.1f} s"
        f" ({database.split('://')[0]})"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = args.database or f"sqlite:///{folder}/web-bench.db"
        if not args.reuse:
            await fill(args, folder)
        port = free_port()
        config_path = folder / "config.toml"
        config_path.write_text(
            f'[service]\ndatabase = "{database}"\nlog_level = "WARNING"\n'
            f'[webhook]\nlisten = "127.0.0.1:{port}"\n',
            encoding="utf-8",
        )
        config = load_config(config_path, environ={})
        storage = open_storage(database)
        await storage.open()
        link = await make_login_link(storage, config, WebIdentity("operator"), datetime.now(UTC))
        await storage.close()
        process = start_vestnik(config_path)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base + "/healthz", timeout=120)
            await asyncio.sleep(args.settle)  # the start-up jobs (catch-up scans) run first
            token = parse_qs(urlsplit(link).query)["t"][0]
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
                async with s.get(f"{base}/web/login?t={token}") as response:
                    assert response.status == 200 and "/web/journal" in str(response.url)
                pages = {
                    "first page (with the total)": "/web/journal",
                    "phone search 8 (916) 000-01-23": "/web/journal?q="
                    + quote("8 (916) 000-01-23"),
                    "status = failed": "/web/journal?status=failed",
                    "order number ЗН-000123": "/web/journal?q=" + quote("ЗН-000123"),
                }
                for name, path in pages.items():
                    report(name, await timed(s, base + path, args.runs))
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--database",
        help="a PostgreSQL URL (the database is created "
        "afresh) or sqlite:///path; default: a temporary "
        "SQLite file",
    )
    parser.add_argument(
        "--settle", type=float, default=10, help="seconds to wait after start-up before measuring"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database an earlier run filled (no new rows)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
