"""What will be sent in the next H hours (``vestnik preview``, ``/preview`` in the bot): the
seed's "query that shows what goes out next time".

Each item is the journal row's columns (docs/rules.md) plus ``due_local`` (the due time in the
recipient's own time zone), ``timezone``, and the timing notes the planner left: ``late``
(sent at once, later than the rule asked) and ``quiet_hours`` (deferred out of quiet hours).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.config import Config
from bot.core.timeutil import Clock
from bot.pipeline.schedule import local_zone
from storage.base import Storage
from storage.models import JournalRow

DEFAULT_LIMIT = 1000


def preview_item(row: JournalRow, config: Config) -> dict[str, Any]:
    tz = local_zone(row.plan.timezone, config.service.tz)
    item = row.public()
    item["due_local"] = (
        row.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if row.due_at else None
    )
    item["timezone"] = tz.key
    for note in ("late", "quiet_hours", "anchor_at"):
        if getattr(row.plan, note):
            item[note] = getattr(row.plan, note)
    return item


async def preview_rows(
    storage: Storage, config: Config, *, hours: float, clock: Clock, limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """Rows due within ``hours`` from now (pending ones included), in due order."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    until = clock.now() + timedelta(hours=hours)
    async with storage.reader() as tx:
        rows = await tx.upcoming(until, limit=limit)
    return [preview_item(row, config) for row in rows]


def preview_line(item: dict[str, Any]) -> str:
    """One line for a terminal or the bot: when (local), who, how, what."""
    who = item.get("recipient_name") or item.get("recipient_id") or item["recipient_role"]
    text = (item.get("text") or "").strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 70:
        first = first[:69] + "…"
    sms = f" [{item['segments']} SMS]" if item.get("segments") else ""
    notes = " (quiet hours)" if item.get("quiet_hours") else ""
    notes += " (late)" if item.get("late") else ""
    return (
        f"#{item['id']} {item['due_local']}{notes} · {who} · {item['channel']} "
        f"{item.get('address') or '-'}{sms} · {item['event_type']} · {first}"
    )
