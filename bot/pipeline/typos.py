"""Typos that would silently mean "never sent": an event type no rule reads, a rule for a
type nobody posts, a stop-list entry for a channel that does not exist. Each is said, with
"did you mean" when a known name is close.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from bot.core.catalog import CATALOG, derived_touched_by

_NO_RULE = {
    "ru": "для типа {type!r} нет ни одного правила: событие сохранено, но никто "
    "ничего не получит{hint}",
    "en": "no rule reads type {type!r}: the event is stored but nobody is told{hint}",
}
_HINT = {"ru": " (может быть, {name!r}?)", "en": " (did you mean {name!r}?)"}
_UNKNOWN_EVENT = {
    "ru": "правило {rule!r}: тип события {type!r} не из каталога и ещё ни разу не приходил: "
    "правило не сработает, пока ERP не пришлёт такой тип{hint}",
    "en": "rule {rule!r}: event type {type!r} is not in the catalog and was never posted: "
    "the rule fires only once the ERP sends that type{hint}",
}


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def hint(name: str, known: Iterable[str], language: str) -> str:
    close = did_you_mean(name, known)
    lang = "en" if language == "en" else "ru"
    return _HINT[lang].format(name=close) if close else ""


def has_rules(event_type: str, rules_for: Callable[[str], list[Any]]) -> bool:
    """A rule reads the type itself or a derived type it plans or cancels."""
    if rules_for(event_type):
        return True
    return any(rules_for(derived.name) for derived in derived_touched_by(event_type))


def unread_type_warnings(
    types: Iterable[str],
    rules_for: Callable[[str], list[Any]],
    rule_types: Iterable[str],
    language: str,
) -> list[dict[str, str]]:
    """For the 202 answer: each posted type that no rule reads (directory types excepted)."""
    lang = "en" if language == "en" else "ru"
    known = set(CATALOG) | set(rule_types)
    out = []
    for event_type in dict.fromkeys(types):
        entry = CATALOG.get(event_type)
        if entry is not None and entry.kind == "directory":
            continue  # persons only: nothing is sent for these by design
        if has_rules(event_type, rules_for):
            continue
        out.append(
            {
                "type": event_type,
                "message": _NO_RULE[lang].format(
                    type=event_type, hint=hint(event_type, known - {event_type}, lang)
                ),
            }
        )
    return out


def rule_event_warning(rule: str, event_type: str, seen: bool, language: str) -> str | None:
    """At rule import: the rule's type is neither in the catalog nor ever posted."""
    if event_type in CATALOG or seen:
        return None
    lang = "en" if language == "en" else "ru"
    return _UNKNOWN_EVENT[lang].format(
        rule=rule, type=event_type, hint=hint(event_type, CATALOG, lang)
    )
