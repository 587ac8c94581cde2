"""The directory side of planning: persons met in an event become directory records (an
ERP customer taking over the Telegram-made placeholder of its phone: bot/pipeline/identity.py),
and the event as filters and templates see it is completed from them."""

from __future__ import annotations

from typing import Any

from bot.core.catalog import STAFF_ROLES
from bot.core.phones import normalize_phone
from bot.pipeline.events import EventIn
from bot.pipeline.identity import adopt_placeholder
from storage.base import Tx
from storage.models import Person


def person_from(role: str, raw: Any, region: str) -> Person | None:
    """The directory record for a person met in an event; None when it cannot be keyed."""
    if raw is None:
        return None
    kind = "customer" if role == "customer" else "staff"
    phone = normalize_phone(raw.phone, region) if raw.phone else None
    person_id = raw.id or (f"phone:{phone}" if phone and kind == "customer" else None)
    if person_id is None:
        return None
    return Person(
        kind=kind,
        id=person_id,
        name=raw.name,
        phone=phone or raw.phone,
        email=raw.email,
        telegram_id=raw.telegram_id,
        group=raw.group,
        birthday=raw.birthday,
        language=raw.language,
        timezone=raw.timezone,
    )


def person_dict(person: Person | None, role: str) -> dict[str, Any]:
    if person is None:
        return {"role": role}
    return {
        "id": person.id,
        "name": person.name,
        "phone": person.phone,
        "email": person.email,
        "group": person.group,
        "birthday": person.birthday,
        "language": person.language,
        "timezone": person.timezone,
        "role": role,
    }


async def upsert_persons(tx: Tx, event: EventIn, region: str) -> dict[str, Person]:
    """Persons met in the event go into the directory; the merged records come back."""
    found: dict[str, Person] = {}
    for role in ("customer", *STAFF_ROLES):
        raw = getattr(event, role)
        person = person_from(role, raw, region)
        if person is None:
            continue
        if person.kind == "customer" and not raw.id and person.phone:
            known = await tx.find_person_by_phone("customer", person.phone)
            if known is not None:  # customers without an id are matched by phone
                person.id = known.id
        found[role] = await tx.upsert_person(person)
        if role == "customer":  # the ERP's customer is who registered in Telegram first
            found[role] = await adopt_placeholder(tx, found[role])
    return found


def document(event: EventIn, persons: dict[str, Person]) -> dict[str, Any]:
    """The event as filters and templates see it, persons completed from the directory."""
    doc = event.model_dump(mode="python")
    for role, person in persons.items():
        merged = doc.get(role) or {}
        for key, value in person_dict(person, role).items():
            if merged.get(key) in (None, ""):
                merged[key] = value
        doc[role] = merged
    return doc
