"""A staff member's inbox (the ``internal`` channel) as the bot shows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.base import Storage
from storage.models import InboxItem


async def latest(storage: Storage, staff_id: str, limit: int) -> list[InboxItem]:
    async with storage.reader() as tx:
        return await tx.list_inbox(staff_id, limit=limit)


async def mark_read(storage: Storage, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await storage.write(lambda tx: tx.mark_inbox_read(ids, now))
