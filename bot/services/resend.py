"""Send a journal row again (CLI ``vestnik journal resend``, the bot's ``/resend``, the HTTP
API): clear ``sent_at``, ``failed_at`` and ``error`` so the dispatcher takes it again.

Resend is for rows that went out or failed. A ``scheduled`` row has not been sent yet; sending
it at once is refused (the answer says when it is due) unless the caller insists (``--now``,
``/resend ID now``, ``?now=1``). The check and the change are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage.base import Storage, Tx
from storage.models import JournalRow


@dataclass(slots=True)
class ResendOutcome:
    status: str  # queued | not_found | sending | scheduled
    row: JournalRow | None

    @property
    def queued(self) -> bool:
        return self.status == "queued"


async def resend_row(
    storage: Storage, row_id: int, now: datetime, *, force: bool = False
) -> ResendOutcome:
    """Make the row pending, due ``now``; other processes' dispatchers are told."""

    async def job(tx: Tx) -> ResendOutcome:
        row = await tx.get_journal(row_id)
        if row is None:
            return ResendOutcome("not_found", None)
        if row.status == "sending":
            return ResendOutcome("sending", row)
        if row.status == "scheduled" and not force:
            return ResendOutcome("scheduled", row)
        fresh = await tx.resend(row_id, now)
        return ResendOutcome("queued", fresh) if fresh else ResendOutcome("sending", row)

    outcome = await storage.write(job)
    if outcome.queued:
        await storage.notify_new_rows()
    return outcome


def due_text(row: JournalRow, tz: tzinfo) -> str:
    """When a scheduled row is due, in the service's time zone."""
    if row.due_at is None:
        return "—"
    return row.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z").strip()
