"""The rules part of the storage interface: the stored rules with their revision counter,
the record of changes to each, and the latest event a rule's preview is shown on.
Implemented in :mod:`storage.sql` and :mod:`storage.sql_staff`; part of every
:class:`storage.base.Tx`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from storage.models import RuleChange, StoredEvent, StoredRule


class RulesTx(abc.ABC):
    """Rules and their change record (a part of :class:`storage.base.Tx`)."""

    @abc.abstractmethod
    async def upsert_rules(self, rules: Sequence[StoredRule]) -> tuple[int, int]:
        """Insert or update by name; returns (created, updated). Bumps the rules revision."""

    @abc.abstractmethod
    async def list_rules(self) -> list[StoredRule]: ...

    @abc.abstractmethod
    async def get_rule(self, ref: int | str) -> StoredRule | None: ...

    @abc.abstractmethod
    async def set_rule_blocked(self, rule_id: int, blocked: bool) -> bool: ...

    @abc.abstractmethod
    async def delete_rule(self, rule_id: int) -> bool: ...

    @abc.abstractmethod
    async def rules_revision(self) -> int: ...

    @abc.abstractmethod
    async def update_rule(self, rule_id: int, rule: StoredRule, now: datetime) -> bool:
        """Rewrite one rule by id (name included); bumps the rules revision."""

    @abc.abstractmethod
    async def add_rule_change(self, change: RuleChange) -> None: ...

    @abc.abstractmethod
    async def list_rule_changes(self, rule_id: int, *, limit: int = 20) -> list[RuleChange]:
        """The newest first."""

    @abc.abstractmethod
    async def latest_event(self, types: Sequence[str]) -> StoredEvent | None:
        """The most recent stored event of one of ``types`` (by occurred_at)."""
