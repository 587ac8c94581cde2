"""The aiogram FSM store on Vestnik's own database, so a bot dialogue (the ``/rules new``
wizard) survives a restart and continues in whichever ``vestnik serve`` process gets the next
update when several share PostgreSQL. A dialogue untouched for ``telegram.dialogue_ttl_hours``
is forgotten: it reads as empty and is purged on the next write."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.core.timeutil import Clock
from storage.base import Storage
from storage.models import DialogueState


class DatabaseFsmStorage(BaseStorage):
    def __init__(self, storage: Storage, clock: Clock, *, ttl: timedelta) -> None:
        self.storage = storage
        self.clock = clock
        self.ttl = ttl
        self.keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.keys.build(key)

    async def _current(self, key: StorageKey) -> DialogueState | None:
        async with self.storage.reader() as tx:
            found = await tx.get_dialogue(self._key(key))
        if found is None or found.updated_at < self.clock.now() - self.ttl:
            return None  # abandoned: as if it never started
        return found

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        now = self.clock.now()
        record = self._key(key)

        async def job(tx: Any) -> None:
            await tx.purge_dialogues(now - self.ttl)
            await tx.set_dialogue_state(record, name, now)

        await self.storage.write(job)

    async def get_state(self, key: StorageKey) -> str | None:
        found = await self._current(key)
        return found.state if found is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        now = self.clock.now()
        record, values = self._key(key), dict(data)
        await self.storage.write(lambda tx: tx.set_dialogue_data(record, values, now))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        found = await self._current(key)
        return dict(found.data) if found is not None else {}

    async def close(self) -> None:
        """The database belongs to the app; nothing to close here."""
