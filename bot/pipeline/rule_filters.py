"""A rule's ``filters`` (docs/rules.md): the condition language, how a condition is checked
when a rule is validated, and how it is applied to an event.

A filter maps a dotted path into the event (``order.territory``) to a condition: a value, a
list of values (any of them), or a table of operators (:data:`FILTER_OPERATORS`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

FILTER_OPERATORS = ("equals", "in", "not_in", "any", "exists", "gte", "lte")
# what resolve_path answers for a path the event does not have (None is a value)
MISSING = object()


# validation ---------------------------------------------------------------------------------
def check_filters(value: dict[str, Any]) -> dict[str, Any]:
    """The rule's filters unchanged, or ValueError naming the path and what is wrong."""
    for path, condition in value.items():
        if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", path):
            raise ValueError(f"{path!r} is not a dotted path like order.territory")
        if isinstance(condition, dict):
            unknown = set(condition) - set(FILTER_OPERATORS)
            if unknown or not condition:
                raise ValueError(
                    f"{path}: unknown operator {', '.join(sorted(unknown)) or '(none)'}; "
                    f"use {', '.join(FILTER_OPERATORS)}"
                )
            for op in ("in", "not_in", "any"):
                if op in condition and not isinstance(condition[op], list):
                    raise ValueError(f"{path}: {op} takes a list")
            for op in ("gte", "lte"):
                if op in condition and not _orderable(condition[op]):
                    raise ValueError(
                        f"{path}: {op} takes a number or an ISO date "
                        f"(2026-11-25), not {condition[op]!r}"
                    )
            if "exists" in condition and not isinstance(condition["exists"], bool):
                raise ValueError(f"{path}: exists takes true or false")
    return value


def _orderable(value: Any) -> bool:
    """A bound for gte/lte: a number, or a date/time (ISO text compares in order)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, date, datetime)):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
            return True
        except InvalidOperation:
            pass
        try:
            datetime.fromisoformat(value)
            return True
        except ValueError:
            return False
    return False


# matching -----------------------------------------------------------------------------------
def resolve_path(document: Any, path: str) -> Any:
    """Dotted path into the event; through lists it collects every element's value."""
    current: Any = document
    for part in path.split("."):
        if isinstance(current, list):
            collected: list[Any] = []
            for element in current:
                value = element.get(part, MISSING) if isinstance(element, dict) else MISSING
                if value is MISSING:
                    continue
                collected.extend(value if isinstance(value, list) else [value])
            current = collected
        elif isinstance(current, dict):
            current = current.get(part, MISSING)
            if current is MISSING or current is None:
                return MISSING
        else:
            return MISSING
    return current


def _comparable(value: Any) -> Any:
    """A number as a Decimal; NaN and infinities ("NaN", "sNaN") compare as the text they
    are, since Decimal refuses to order them."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = Decimal(str(value))
        return number if number.is_finite() else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    return value


def _same(a: Any, b: Any) -> bool:
    ca, cb = _comparable(a), _comparable(b)
    if type(ca) is type(cb):
        return bool(ca == cb)
    return str(a) == str(b)


def _order(a: Any, b: Any) -> int | None:
    ca, cb = _comparable(a), _comparable(b)
    if isinstance(ca, Decimal) and isinstance(cb, Decimal):
        return (ca > cb) - (ca < cb)
    if isinstance(ca, str) and isinstance(cb, str):  # ISO dates and times compare as text
        return (ca > cb) - (ca < cb)
    return None


def _values(found: Any) -> list[Any]:
    if found is MISSING:
        return []
    return found if isinstance(found, list) else [found]


def condition_holds(found: Any, condition: Any) -> bool:
    values = _values(found)
    if isinstance(condition, dict):
        for op, expected in condition.items():
            if op == "exists":
                if bool(values) != bool(expected):
                    return False
            elif op == "equals":
                if not any(_same(v, expected) for v in values):
                    return False
            elif op in ("in", "any"):
                if not any(_same(v, e) for v in values for e in expected):
                    return False
            elif op == "not_in":
                if any(_same(v, e) for v in values for e in expected):
                    return False
            elif op in ("gte", "lte"):
                sign = 1 if op == "gte" else -1
                if not values or not all(
                    (cmp := _order(v, expected)) is not None and cmp * sign >= 0 for v in values
                ):
                    return False
        return True
    if isinstance(condition, list):
        return any(_same(v, e) for v in values for e in condition)
    return any(_same(v, condition) for v in values)


def filters_match(filters: dict[str, Any], document: dict[str, Any]) -> bool:
    return all(
        condition_holds(resolve_path(document, path), condition)
        for path, condition in filters.items()
    )
