"""The staff inbox over the storage, as the internal channel sees it (:class:`Inbox`)."""

from __future__ import annotations

from bot.core.timeutil import Clock
from storage.base import Storage, Tx
from storage.models import InboxItem


class StorageInbox:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    async def store(
        self, *, staff_id: str, text: str, subject: str | None, journal_id: int | None
    ) -> tuple[int, int | None]:
        item = InboxItem(
            staff_id=staff_id,
            text=text,
            subject=subject,
            created_at=self.clock.now(),
            journal_id=journal_id,
        )

        async def store(tx: Tx) -> tuple[int, int | None]:
            inbox_id = await tx.add_inbox(item)
            link = await tx.find_active_link(staff_id=staff_id)
            return inbox_id, (link.chat_id if link is not None else None)

        return await self.storage.write(store)

    async def deactivate_chat(self, chat_id: int) -> None:
        await self.storage.write(lambda tx: tx.set_link_active(chat_id, False))
