"""The directory part of the storage interface: stored events, the persons the ERP sends
(customers and staff, with the aliases of merged customers) and the Telegram links.
Implemented for both SQL backends by :mod:`storage.sql_directory`; part of every
:class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import Person, StoredEvent, TelegramLink


class DirectoryTx(abc.ABC):
    """Events, persons and Telegram links (a part of :class:`storage.base.Tx`)."""

    # events and the directory ------------------------------------------------------------
    @abc.abstractmethod
    async def existing_events(self, ids: Sequence[str]) -> set[str]: ...

    @abc.abstractmethod
    async def insert_event(self, event: StoredEvent) -> None: ...

    @abc.abstractmethod
    async def get_event(self, event_id: str) -> StoredEvent | None: ...

    @abc.abstractmethod
    async def event_type_seen(self, event_type: str) -> bool:
        """Whether any stored event has this type (typo checks at rule import)."""

    @abc.abstractmethod
    async def upsert_person(self, person: Person) -> Person:
        """Merge: fields given (not None) overwrite, others keep their stored value."""

    @abc.abstractmethod
    async def get_person(self, kind: str, person_id: str) -> Person | None:
        """The person with this id, or the one an id merged away now belongs to (an alias)."""

    @abc.abstractmethod
    async def merge_customer(self, alias: str, into: str) -> dict[str, int]:
        """One person, one identity: the customer ``alias`` (a Telegram-made ``phone:+7...``)
        becomes ``into``. Fields ``into`` lacks are taken over, its Telegram links and stop
        entries move, ``alias`` is kept as an alias (rows planned under it still find the
        person); the journal is left as recorded. Returns what moved, by table; empty (one
        indexed look-up, no writes) when nothing is known under ``alias``."""

    @abc.abstractmethod
    async def find_person_by_phone(self, kind: str, phone: str) -> Person | None: ...

    @abc.abstractmethod
    async def list_persons(
        self, kind: str, *, with_birthday: bool = False, limit: int | None = None
    ) -> list[Person]: ...

    @abc.abstractmethod
    async def persons_born_on(self, kind: str, month_days: Sequence[str]) -> list[Person]:
        """Persons whose birthday (``YYYY-MM-DD`` or ``--MM-DD``) falls on one of
        ``month_days`` (``"MM-DD"``): the daily birthday job."""

    # telegram links ------------------------------------------------------------------------
    @abc.abstractmethod
    async def upsert_link(self, link: TelegramLink) -> None: ...

    @abc.abstractmethod
    async def get_link(self, chat_id: int) -> TelegramLink | None: ...

    @abc.abstractmethod
    async def find_active_link(
        self,
        *,
        customer_id: str | None = None,
        staff_id: str | None = None,
        phone: str | None = None,
    ) -> TelegramLink | None: ...

    @abc.abstractmethod
    async def set_link_active(self, chat_id: int, active: bool) -> None: ...
