"""The status page: queue depth and rows due in the next hour per channel, the last error of
each channel, SMS portal balances, modem signal and operator, how late the dispatcher is,
and whether this process leads the periodic jobs. The page refreshes itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.core.sending import Sender
from bot.keys import CLOCK, DISPATCHER, SENDERS, STORAGE
from bot.web.pages import render

WAITING = ("pending", "scheduled", "sending")


@dataclass(slots=True)
class ChannelLine:
    name: str
    waiting: int = 0
    next_hour: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None


def _state(sender: Sender) -> dict[str, Any]:
    try:
        return dict(sender.status())
    except Exception as exc:  # a status snapshot must not break the page
        return {"last_error": f"status unavailable: {exc}"}


def portals_of(states: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    portals = states.get("sms", {}).get("portals") or {}
    return [{"name": name, **info} for name, info in portals.items() if isinstance(info, dict)]


def modems_of(states: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    pool = states.get("modem", {})
    return [{"name": name, **info} for name, info in pool.items() if isinstance(info, dict)]


async def handle_status(request: web.Request) -> web.Response:
    storage = request.config_dict[STORAGE]
    now = request.config_dict[CLOCK].now()
    senders: dict[str, Sender] = request.config_dict[SENDERS]
    async with storage.reader() as tx:
        counts = await tx.counts()
        due = await tx.due_counts(now + timedelta(hours=1))
        earliest = await tx.due_by_channel(sorted(set(counts) | set(senders)))
    states = {name: _state(sender) for name, sender in senders.items()}
    dispatcher = request.config_dict.get(DISPATCHER)
    last_errors = dict(dispatcher.last_error) if dispatcher is not None else {}
    lines = []
    for name in sorted(set(counts) | set(senders)):
        by_status = counts.get(name, {})
        error = last_errors.get(name) or states.get(name, {}).get("last_error")
        lines.append(
            ChannelLine(
                name,
                sum(by_status.get(s, 0) for s in WAITING),
                due.get(name, 0),
                by_status,
                str(error) if error and not isinstance(error, dict) else None,
            )
        )
    overdue = [now - moment for moment in earliest.values() if moment < now]
    lag = int(max(overdue).total_seconds()) if overdue else None
    return render(
        request,
        "status.html",
        {
            "lines": lines,
            "portals": portals_of(states),
            "modems": modems_of(states),
            "lag": lag,
            "leader": getattr(storage, "is_leader", True),
            "now": now,
            "database": await storage.ping(),
        },
    )
