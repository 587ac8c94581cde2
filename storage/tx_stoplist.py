"""The stop list part of the storage interface: who must not be notified, of what, on which
channel. Implemented in :mod:`storage.sql`; part of every :class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.models import StopEntry


class StopListTx(abc.ABC):
    """The stop list (a part of :class:`storage.base.Tx`)."""

    @abc.abstractmethod
    async def add_stop(self, entry: StopEntry) -> StopEntry: ...

    @abc.abstractmethod
    async def remove_stop(self, entry_id: int) -> bool: ...

    @abc.abstractmethod
    async def remove_stops_for(self, who_kind: str, who: str, *, author: str | None = None) -> int:
        """Remove every entry for this person (by author, if given); /start re-subscribes."""

    @abc.abstractmethod
    async def list_stops(self, *, limit: int = 100, offset: int = 0) -> list[StopEntry]: ...

    @abc.abstractmethod
    async def find_stop(
        self, keys: Sequence[str], event_type: str, channel: str
    ) -> StopEntry | None:
        """The first entry whose ``who_kind:who`` is in ``keys`` and that covers the type and
        channel (``*`` covers all)."""
