"""The staff part of the storage interface: the bot's dialogue state (the aiogram FSM store,
so a wizard survives a restart) and the staff inbox. Implemented in :mod:`storage.sql_staff`
and :mod:`storage.sql`; part of every :class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.models import DialogueState, InboxItem


class StaffTx(abc.ABC):
    """Bot dialogues and the staff inbox (a part of :class:`storage.base.Tx`)."""

    # bot dialogues (the aiogram FSM store) -------------------------------------------------------
    @abc.abstractmethod
    async def get_dialogue(self, key: str) -> DialogueState | None: ...

    @abc.abstractmethod
    async def set_dialogue_state(self, key: str, state: str | None, now: datetime) -> None: ...

    @abc.abstractmethod
    async def set_dialogue_data(self, key: str, data: dict[str, Any], now: datetime) -> None: ...

    @abc.abstractmethod
    async def purge_dialogues(self, before: datetime) -> int:
        """Forget dialogues untouched since ``before`` (abandoned wizards)."""

    # inbox -------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_inbox(self, item: InboxItem) -> int:
        """Store a staff message; one per journal row (a repeat returns the stored id)."""

    @abc.abstractmethod
    async def list_inbox(
        self, staff_id: str, *, limit: int = 10, unread_only: bool = False
    ) -> list[InboxItem]: ...

    @abc.abstractmethod
    async def mark_inbox_read(self, ids: Sequence[int], now: datetime) -> None: ...
