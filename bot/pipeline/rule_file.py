"""The rule file (docs/rules.md): TOML in, validated as a whole with the rule name and key of
every error (:class:`RuleFileError`), upserted by name; and TOML out that reads back
unchanged (``vestnik rules export``)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from bot.pipeline.rules import Rule, to_stored, validate_rule
from storage.base import Storage
from storage.models import StoredRule


class RuleFileError(Exception):
    """A rule file rejected as a whole; ``errors`` name the rule and key of each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


# import -------------------------------------------------------------------------------------
def parse_rules(data: dict[str, Any]) -> list[Rule]:
    """Validate ``{"rules": [...]}``; raise :class:`RuleFileError` listing every problem."""
    raw = data.get("rules")
    unknown = set(data) - {"rules"}
    errors = [
        f"top level: unknown key {key!r} (rules go in [[rules]] tables)" for key in sorted(unknown)
    ]
    if not isinstance(raw, list):
        raise RuleFileError(errors + ["top level: no [[rules]] tables found"])
    rules, names = [], set()
    for index, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        label = f"rule {name!r}" if name else f"rule #{index + 1}"
        rule, problems = validate_rule(item)
        errors += [f"{label}: {key}: {msg}" for key, msg in problems]
        if rule is None:
            continue
        if rule.name in names:
            errors.append(f"{label}: name: duplicate rule name in this file")
        names.add(rule.name)
        rules.append(rule)
    if errors:
        raise RuleFileError(errors)
    return rules


def parse_rules_toml(text: str) -> list[StoredRule]:
    try:
        data = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError([f"not valid TOML: {exc}"]) from None
    return [to_stored(rule) for rule in parse_rules(data)]


async def import_rules(storage: Storage, text: str) -> tuple[int, int]:
    """Validate the whole file, then upsert by name: (created, updated)."""
    rules = parse_rules_toml(text)
    async with storage.transaction() as tx:
        return await tx.upsert_rules(rules)


# export -------------------------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value:
            return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    return _toml_value(str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def export_rules_toml(rules: list[StoredRule]) -> str:
    """TOML that ``vestnik rules import`` reads back unchanged."""
    chunks = []
    for stored in rules:
        definition = {**stored.definition, "blocked": stored.blocked}
        lines = [f"# id {stored.id}", "[[rules]]"]
        lines += [
            f"{_toml_key(k)} = {_toml_value(v)}"
            for k, v in definition.items()
            if v is not None and v != {} and v != []
        ]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + ("\n" if chunks else "")
