"""Who may use the staff commands: an aiogram ``BaseFilter`` (never a plain class — aiogram
would run its ``__call__`` in a thread and the un-awaited coroutine would let everyone in).

Staff are the Telegram ids in ``telegram.admins`` and the chats whose verified phone (a shared
own contact) matches a staff person the ERP posted. The phone is checked against the directory
on every command, so a staff member the ERP re-assigned loses access at once. Staff commands
work only in private chats, where nobody else reads the answers, and in the conversations'
staff chat (``[conversations] staff_chat``), which only staff read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, Message

from bot.core.config import Config
from storage.base import Storage


@dataclass(frozen=True, slots=True)
class StaffMember:
    user_id: int
    staff_id: str | None  # the ERP's staff id, when the chat is linked to one
    name: str
    is_admin: bool


async def find_staff(
    storage: Storage, config: Config, *, user_id: int, chat_id: int
) -> StaffMember | None:
    """The staff member writing from this private chat, or None."""
    is_admin = user_id in config.telegram.admins
    async with storage.reader() as tx:
        link = await tx.get_link(chat_id)
        person = None
        if (
            link is not None
            and link.active
            and link.staff_id
            and link.phone
            and link.user_id == user_id
        ):
            found = await tx.find_person_by_phone("staff", link.phone)
            if found is not None and found.id == link.staff_id:
                person = found
    if person is not None:
        return StaffMember(user_id, person.id, person.name or person.id, is_admin)
    if is_admin:
        return StaffMember(user_id, link.staff_id if link else None, "admin", True)
    return None


class IsStaff(BaseFilter):
    """Passes staff in private chats and injects ``staff: StaffMember`` into the handler;
    for a button press, the chat is the one of the message the button is under."""

    async def __call__(
        self, event: Message | CallbackQuery, storage: Storage, config: Config
    ) -> bool | dict[str, Any]:
        message = event if isinstance(event, Message) else event.message
        if not isinstance(message, Message) or event.from_user is None:
            return False
        # the staff chat of conversations is for staff only, so commands work there too
        in_staff_chat = message.chat.id == config.conversations.staff_chat
        if message.chat.type != "private" and not in_staff_chat:
            return False
        member = await find_staff(
            storage,
            config,
            user_id=event.from_user.id,
            chat_id=event.from_user.id if in_staff_chat else message.chat.id,
        )
        return {"staff": member} if member is not None else False
