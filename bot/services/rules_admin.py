"""Changing rules, for the bot and the CLI: save a definition (validated as ``rules import``
validates), block, delete, import a TOML file; every change is recorded with its author and
time. Who may change rules in the chat: ``telegram.admins``, and ``telegram.rule_editors``
(Telegram ids, or ``"staff"`` for every verified staff member)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.config import Config
from bot.pipeline.rule_file import parse_rules_toml
from bot.pipeline.rules import to_stored, validate_rule
from storage.base import Storage, Tx
from storage.models import RuleChange, StoredRule


class RuleSaveError(ValueError):
    """``problems``: (key, message) of each, keys as in the rule file (``filters``...)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


def may_change_rules(config: Config, user_id: int) -> bool:
    """For a verified staff member or admin writing from ``user_id``."""
    editors = config.telegram.rule_editors
    return user_id in config.telegram.admins or editors == "staff" or user_id in editors


async def record(tx: Tx, rule: StoredRule, action: str, author: str, now: datetime) -> None:
    await tx.add_rule_change(
        RuleChange(rule_id=rule.id, rule_name=rule.name, action=action, author=author, at=now)
    )


def definition_of(rule: StoredRule) -> dict[str, Any]:
    return {**rule.definition, "blocked": rule.blocked}


async def save(
    storage: Storage,
    definition: Mapping[str, Any],
    *,
    rule_id: int | None,
    author: str,
    now: datetime,
) -> StoredRule:
    """Create (``rule_id`` None) or rewrite one rule; :class:`RuleSaveError` lists every
    problem."""
    model, problems = validate_rule(dict(definition))
    if model is None:
        raise RuleSaveError(problems)
    stored = to_stored(model)

    async def job(tx: Tx) -> StoredRule:
        same_name = await tx.get_rule(stored.name)
        if same_name is not None and same_name.id != rule_id:
            raise RuleSaveError(
                [("name", f"a rule named {stored.name!r} exists (#{same_name.id})")]
            )
        if rule_id is None:
            await tx.upsert_rules([stored])
            action = "created"
        elif not await tx.update_rule(rule_id, stored, now):
            raise RuleSaveError([("(rule)", f"rule #{rule_id} no longer exists")])
        else:
            action = "updated"
        saved = await tx.get_rule(stored.name)
        assert saved is not None
        await record(tx, saved, action, author, now)
        return saved

    result = await storage.write(job)
    await storage.notify_new_rows()  # running processes re-read rules and stops at once
    return result


async def set_blocked(
    storage: Storage, rule_id: int, blocked: bool, *, author: str, now: datetime
) -> StoredRule | None:
    async def job(tx: Tx) -> StoredRule | None:
        if not await tx.set_rule_blocked(rule_id, blocked):
            return None
        rule = await tx.get_rule(rule_id)
        if rule is not None:
            await record(tx, rule, "blocked" if blocked else "unblocked", author, now)
        return rule

    result = await storage.write(job)
    await storage.notify_new_rows()  # running processes re-read rules and stops at once
    return result


async def delete(
    storage: Storage, rule_id: int, *, author: str, now: datetime
) -> StoredRule | None:
    async def job(tx: Tx) -> StoredRule | None:
        rule = await tx.get_rule(rule_id)
        if rule is None or not await tx.delete_rule(rule_id):
            return None
        await record(tx, rule, "deleted", author, now)
        return rule

    result = await storage.write(job)
    await storage.notify_new_rows()  # running processes re-read rules and stops at once
    return result


async def import_text(
    storage: Storage, text: str, *, author: str, now: datetime
) -> tuple[int, int]:
    """Validate a whole TOML file (:class:`~bot.pipeline.rule_file.RuleFileError`), upsert by
    name: (created, updated)."""
    rules = parse_rules_toml(text)

    async def job(tx: Tx) -> tuple[int, int]:
        counts = await tx.upsert_rules(rules)
        for rule in rules:
            saved = await tx.get_rule(rule.name)
            if saved is not None:
                await record(tx, saved, "imported", author, now)
        return counts

    result = await storage.write(job)
    await storage.notify_new_rows()  # running processes re-read rules and stops at once
    return result


async def get(storage: Storage, ref: int | str) -> StoredRule | None:
    async with storage.reader() as tx:
        return await tx.get_rule(ref)


async def listing(storage: Storage) -> list[StoredRule]:
    async with storage.reader() as tx:
        return await tx.list_rules()


async def history(storage: Storage, rule_id: int, limit: int = 10) -> list[RuleChange]:
    async with storage.reader() as tx:
        return await tx.list_rule_changes(rule_id, limit=limit)


async def copy_name(storage: Storage, name: str) -> str:
    """``name (2)``, ``name (3)``...: the first not taken."""
    taken = {rule.name for rule in await listing(storage)}
    for number in range(2, 1000):
        candidate = f"{name} ({number})"[-200:]
        if candidate not in taken:
            return candidate
    return f"{name} (copy)"
