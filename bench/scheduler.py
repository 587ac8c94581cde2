"""Scheduler benchmark: N scheduled rows spread over M minutes, sent by a real
``vestnik serve`` to the internal channel (the staff inbox in the same database: a fast local
sink). Reports the lateness of each send against its ``due_at`` (p50/p99/max; goal p99 < 1 s)
and the service's CPU use while it holds every row and nothing is due yet (goal: near zero).

    python bench/scheduler.py                       # 100,000 rows over 10 minutes
    python bench/scheduler.py --rows 20000 --minutes 2 --idle 20

The rows are written straight into the database before the service starts (as if planned
earlier); the first falls due after the idle window. CPU is read from /proc/<pid>/stat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, start_vestnik, wait_ready  # noqa: E402
from bot.pipeline.rule_file import import_rules  # noqa: E402
from storage.base import Tx  # noqa: E402
from storage.models import JournalRow, Person, Plan, StoredEvent  # noqa: E402
from storage.open import open_storage

STAFF = 50  # inboxes the rows are spread over
RULE = """
[[rules]]
name = "bench"
event = "task_reminder"
recipients = ["responsible"]
channels = ["internal"]
before = "15m"
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


async def fill(database: str, rows: int, first_due: datetime, spread: timedelta) -> None:
    storage = open_storage(database)
    await storage.open()
    now = datetime.now(UTC)
    step = spread / max(1, rows - 1)
    try:
        # as the planner leaves them: the staff in the directory, the rule and the source
        # events stored, each row looked up again when due (the recipient's current address)
        await import_rules(storage, RULE)
        for n in range(STAFF):
            person = Person(kind="staff", id=f"S-{n}", name=f"S-{n}")
            await storage.write(lambda tx, p=person: tx.upsert_person(p))
        batch: list[JournalRow] = []
        events: list[StoredEvent] = []
        for i in range(rows):
            staff = f"S-{i % STAFF}"
            events.append(
                StoredEvent(
                    id=f"bench-{i}",
                    type="task_scheduled",
                    occurred_at=now,
                    received_at=now,
                    order_id=f"O-{i}",
                    payload={
                        "id": f"bench-{i}",
                        "type": "task_scheduled",
                        "responsible": {"id": staff, "name": staff},
                        "order": {"id": f"O-{i}"},
                    },
                )
            )
            batch.append(
                JournalRow(
                    event_id=f"bench-{i}",
                    event_type="task_reminder",
                    rule="bench",
                    recipient_role="responsible",
                    recipient_id=staff,
                    recipient_name=staff,
                    channel="internal",
                    status="scheduled",
                    created_at=now,
                    due_at=first_due + step * i,
                    address=staff,
                    text=f"Напоминание {i}",
                    order_id=f"O-{i}",
                    plan=Plan(
                        recipient_kind="staff",
                        language="ru",
                        resolve_when_due=True,
                        stop_keys=[f"staff:{staff}"],
                    ),
                )
            )
            if len(batch) == 5000:
                await storage.write(lambda tx, r=batch, e=events: insert(tx, e, r))
                batch, events = [], []
        if batch:
            await storage.write(lambda tx: insert(tx, events, batch))
    finally:
        await storage.close()


async def insert(tx: Tx, events: list[StoredEvent], rows: list[JournalRow]) -> None:
    for stored in events:
        await tx.insert_event(stored)
    await tx.insert_journal_bulk(rows)


def write_config(folder: Path, port: int, database: str) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f"""
[service]
database = "{database}"
log_level = "WARNING"
lease_seconds = 60

[webhook]
listen = "127.0.0.1:{port}"
""",
        encoding="utf-8",
    )
    return path


def progress(db_file: Path) -> tuple[int, int]:
    """(rows sent, rows still to go), read without disturbing the service (WAL reader)."""
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
    try:
        sent = conn.execute("SELECT COUNT(*) FROM journal WHERE status = 'sent'").fetchone()[0]
        left = conn.execute(
            "SELECT COUNT(*) FROM journal WHERE status IN ('scheduled', 'pending', 'sending')"
        ).fetchone()[0]
        return sent, left
    finally:
        conn.close()


def lateness(db_file: Path) -> list[float]:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        out = []
        for due, sent in conn.execute("SELECT due_at, sent_at FROM journal WHERE status = 'sent'"):
            d = datetime.fromisoformat(due.replace("Z", "+00:00"))
            s = datetime.fromisoformat(sent.replace("Z", "+00:00"))
            out.append((s - d).total_seconds())
        return out
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--idle",
        type=float,
        default=30.0,
        help="seconds of idle measurement before the first row is due",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_file = folder / "bench.db"
        database = f"sqlite:///{db_file}"
        startup = 10.0  # seconds for the service to start before the idle window
        first_due = datetime.now(UTC) + timedelta(seconds=startup + args.idle + 5)
        t0 = time.monotonic()
        await fill(database, args.rows, first_due, timedelta(minutes=args.minutes))
        print(
            f"filled {args.rows:,} scheduled rows in {time.monotonic() - t0:.1f} s; "
            f"first due {first_due:%H:%M:%S} UTC, spread over {args.minutes:g} min"
        )
        port = free_port()
        proc = start_vestnik(write_config(folder, port, database))
        try:
            await wait_ready(f"http://127.0.0.1:{port}/healthz")
            await asyncio.sleep(2.0)  # start-up work (catch-up scan, first claims) settles
            idle_until = first_due - timedelta(seconds=2)
            window = (idle_until - datetime.now(UTC)).total_seconds()
            c0, w0 = cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(max(1.0, window))
            c1, w1 = cpu_seconds(proc.pid), time.monotonic()
            idle_cpu = (c1 - c0) / (w1 - w0) * 100
            print(
                f"idle: {c1 - c0:.3f} s CPU over {w1 - w0:.1f} s holding {args.rows:,} "
                f"rows = {idle_cpu:.2f} % of one core"
            )

            a0 = cpu_seconds(proc.pid)
            deadline = first_due + timedelta(minutes=args.minutes) + timedelta(seconds=120)
            while True:
                await asyncio.sleep(5.0)
                sent, left = progress(db_file)
                if left == 0 or datetime.now(UTC) > deadline:
                    break
            active_cpu = cpu_seconds(proc.pid) - a0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        late = lateness(db_file)
        sent, left = progress(db_file)
        print(
            f"sent {sent:,} of {args.rows:,} (left {left:,}); "
            f"send phase CPU {active_cpu:.1f} s over {args.minutes:g} min "
            f"({active_cpu / (args.minutes * 60) * 100:.1f} % of one core)"
        )
        if late:
            print(
                f"lateness of send vs due_at: p50 {pct(late, 0.50) * 1000:.0f} ms, "
                f"p99 {pct(late, 0.99) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms, "
                f"mean {statistics.fmean(late) * 1000:.0f} ms"
            )
            print(f"goal p99 < 1 s: {'met' if pct(late, 0.99) < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
