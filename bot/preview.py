"""``vestnik preview``: what will be sent in the next H hours, in the recipients' local time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.timeutil import Clock, SystemClock
from storage.base import JournalFilter, Storage


async def preview_rows(storage: Storage, config: Config, *, hours: float,
                       clock: Clock | None = None, limit: int = 10000) -> list[dict[str, Any]]:
    now = (clock or SystemClock()).now()
    until = now + timedelta(hours=hours)
    items: list[dict[str, Any]] = []
    async with storage.reader() as tx:
        for status in ("pending", "scheduled"):
            for row in await tx.list_journal(JournalFilter(status=status, limit=limit)):
                if row.due_at is None or row.due_at > until:
                    continue
                tz = config.service.tz
                zone = row.options.get("timezone")
                if zone:
                    try:
                        tz = ZoneInfo(zone)
                    except (KeyError, ValueError):
                        pass
                item = row.public()
                item["due_local"] = row.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
                items.append(item)
    items.sort(key=lambda item: (item["due_at"] or "", item["id"]))
    return items
