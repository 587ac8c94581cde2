"""What a rule's messages look like: rendered on a sample event of its type (or a real
stored one) in each of its channels, SMS with encoding and segment count. The rule wizard's
live preview, ``/rules test`` and ``/templates`` use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.catalog import CATALOG
from bot.core.channels import SMS_CHANNELS
from bot.core.config import Config
from bot.core.sms_text import SmsInfo, sms_info, translit
from bot.pipeline.template_context import template_context
from bot.pipeline.templates import TemplateFailure, Templates
from bot.services.samples import sample_event
from storage.base import Storage


@dataclass(frozen=True, slots=True)
class Preview:
    channel: str
    subject: str = ""
    text: str = ""
    sms: SmsInfo | None = None
    error: str | None = None


def recipient_of(event: Mapping[str, Any], recipients: list[str]) -> dict[str, Any]:
    """The first recipient role's person from the event, as a template sees it."""
    role = (recipients or ["customer"])[0]
    person = (
        event.get(role)
        if role in ("customer", "manager", "master", "author", "responsible")
        else None
    )
    return {**(person or {}), "role": role if person is not None else "staff"}


def render(
    templates: Templates,
    config: Config,
    definition: Mapping[str, Any],
    channel: str,
    event: Mapping[str, Any],
    language: str,
) -> Preview:
    """One channel's message of a rule definition (draft or stored) for ``event``."""
    context = template_context(
        event,
        recipient_of(event, definition.get("recipients", [])),
        company=config.service.company_name,
        extra=templates.globals,
    )
    try:
        rendered = templates.render(
            event_type=str(definition.get("event") or event.get("type") or ""),
            channel=channel,
            language=definition.get("language") or language,
            context=context,
            subject=definition.get("subject"),
            body=definition.get("body"),
        )
    except TemplateFailure as exc:
        return Preview(channel, error=str(exc))
    text = rendered.text
    if channel in SMS_CHANNELS:
        if definition.get("translit"):
            text = translit(text)
        return Preview(channel, rendered.subject, text, sms=sms_info(text))
    return Preview(channel, rendered.subject, text)


async def event_for_test(storage: Storage, event_type: str) -> tuple[dict[str, Any], str | None]:
    """(the newest stored event of the type — for a derived type, of its source — else the
    sample; the stored event's id or None)."""
    entry = CATALOG.get(event_type)
    types = [event_type, *(entry.sources if entry is not None else ())]
    async with storage.reader() as tx:
        stored = await tx.latest_event(types)
    if stored is None:
        return sample_event(event_type), None
    payload = dict(stored.payload)
    payload.setdefault("id", stored.id)
    payload["type"] = event_type
    return payload, stored.id
