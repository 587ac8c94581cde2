"""Post stories to the webhook at a rate, in batches, signed or with a token, and count.

Each story goes to one lane and a lane posts its events in order, so a reschedule never
overtakes its booking; the lanes share one rate limit (events per second). The report has
what the server answered (accepted, duplicates, errors by status) and the request latency.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

import aiohttp

from bot.emulate.stories import Event
from bot.pipeline.webhook_auth import sign


@dataclass(slots=True)
class Target:
    url: str
    token: str | None = None
    secret: str | None = None  # whsec_...
    timeout: float = 30.0

    def headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.secret:
            key = base64.b64decode(self.secret.removeprefix("whsec_"))
            msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
            headers.update(
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(stamp),
                    "webhook-signature": sign(key, msg_id, stamp, body),
                }
            )
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


@dataclass(slots=True)
class Report:
    events: int = 0
    requests: int = 0
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def percentile(self, share: float) -> float | None:
        """Nearest-rank percentile of the request latencies, in milliseconds."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
        return round(ordered[rank - 1] * 1000, 1)

    def public(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "requests": self.requests,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "latency_ms": {"p50": self.percentile(0.50), "p99": self.percentile(0.99)},
            "elapsed_s": round(self.elapsed, 2),
            "events_per_s": round(self.events / self.elapsed, 1) if self.elapsed else None,
            "first_errors": self.first_errors,
        }


class Pacer:
    """A shared schedule: ``n`` events may start ``n / rate`` seconds after the previous."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self, events: int) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + events * self.interval
        if start > now:
            await asyncio.sleep(start - now)


class Progress:
    def __init__(self, total: int, out: TextIO | None) -> None:
        self.total, self.done, self.out = total, 0, out

    def add(self, n: int) -> None:
        self.done += n
        if self.out is None:
            return
        width = 30
        filled = width * self.done // max(1, self.total)
        self.out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
        if self.done >= self.total:
            self.out.write("\n")
        self.out.flush()


async def _post(
    session: aiohttp.ClientSession, target: Target, events: list[Event], report: Report
) -> None:
    payload: Any = events[0] if len(events) == 1 else {"events": events}
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    started = time.monotonic()
    try:
        async with session.post(target.url, data=body, headers=target.headers(body)) as answer:
            text = await answer.text()
            status = answer.status
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        status, text = 0, f"{type(exc).__name__}: {exc}"
    report.latencies.append(time.monotonic() - started)
    report.requests += 1
    report.statuses[str(status) if status else "network"] += 1
    if status == 202:
        try:
            result = json.loads(text)
        except json.JSONDecodeError:
            result = {}
        report.accepted += len(result.get("accepted", []))
        report.duplicates += len(result.get("duplicates", []))
        return
    report.errors += len(events)
    if len(report.first_errors) < 3:
        try:  # the server's words as they read, not as \u escapes
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except json.JSONDecodeError:
            pass
        report.first_errors.append(f"{status or 'network'}: {text[:300]}")


async def _lane(
    session: aiohttp.ClientSession,
    target: Target,
    stories: list[list[Event]],
    batch: int,
    pacer: Pacer,
    report: Report,
    progress: Progress,
) -> None:
    queue = [event for story in stories for event in story]
    for start in range(0, len(queue), batch):
        chunk = queue[start : start + batch]
        await pacer.wait(len(chunk))
        await _post(session, target, chunk, report)
        progress.add(len(chunk))


async def emulate(
    target: Target,
    stories: list[list[Event]],
    *,
    rate: float,
    batch: int,
    lanes: int = 8,
    progress: TextIO | None = None,
) -> Report:
    """Post every story's events; ``rate`` events per second (0: as fast as possible)."""
    report = Report(events=sum(len(s) for s in stories))
    lanes = max(1, min(lanes, len(stories)))
    assigned: list[list[list[Event]]] = [[] for _ in range(lanes)]
    for index, story in enumerate(stories):
        assigned[index % lanes].append(story)
    pacer = Pacer(rate)
    bar = Progress(report.events, progress)
    timeout = aiohttp.ClientTimeout(total=target.timeout)
    started = time.monotonic()
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=lanes)
    ) as session:
        await asyncio.gather(
            *(_lane(session, target, lane, batch, pacer, report, bar) for lane in assigned)
        )
    report.elapsed = time.monotonic() - started
    return report
