"""The look-up-when-due stage: the step between claiming a row and handing it to its sender.

A row planned ahead (``plan.resolve_when_due``) looks its recipient up again when it falls
due: a new address, a newly linked chat, the channel order of a ``delivery = "first"`` rule
applied now. Other rows go as planned. The dispatcher is given this stage explicitly.
"""

from __future__ import annotations

from bot.core.timeutil import Clock
from bot.pipeline.planner import Planner
from storage.base import Storage
from storage.models import JournalRow


class ResolveWhenDue:
    def __init__(self, storage: Storage, planner: Planner, clock: Clock) -> None:
        self.storage = storage
        self.planner = planner
        self.clock = clock

    async def __call__(self, row: JournalRow) -> JournalRow:
        if not row.plan.resolve_when_due:
            return row
        async with self.storage.reader() as tx:
            fresh, changed = await self.planner.resolve_due(tx, row, self.clock.now())
        if changed:
            await self.storage.write(lambda tx: tx.update_planned(fresh))
        return fresh
