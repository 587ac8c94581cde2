"""The default texts of an event type per channel, and the template variables with examples
taken from the type's sample event: ``vestnik templates`` and the bot's ``/templates``."""

from __future__ import annotations

from typing import Any

from bot.pipeline.default_templates import CHANNEL_BODY_KEY, FALLBACK_TYPE, load_default_templates
from bot.pipeline.template_context import TEMPLATE_VARIABLES
from bot.services.samples import fields_of

TEXT_CHANNELS = ("email", "telegram", "sms")


def has_defaults(event_type: str) -> bool:
    return event_type in load_default_templates() and event_type != FALLBACK_TYPE


def default_text(event_type: str, channel: str, language: str) -> tuple[str, str]:
    """(subject — e-mail only, else "" —, body source) of the type's default template;
    LookupError for an unknown type or channel."""
    defaults = load_default_templates()
    if event_type not in defaults or event_type == FALLBACK_TYPE:
        raise LookupError(f"no default templates for {event_type!r}")
    key = CHANNEL_BODY_KEY.get(channel)
    if key is None:
        raise LookupError(f"unknown channel {channel!r}: use {', '.join(CHANNEL_BODY_KEY)}")
    entry = defaults[event_type].get(language) or defaults[event_type]["ru"]
    subject = entry.get("subject", "") if channel in ("email", "internal") else ""
    return subject, entry[key]


def variable_examples(event_type: str, limit: int = 40) -> list[tuple[str, Any]]:
    """``{{ path }}`` and the sample's value for each field the type carries."""
    return [
        (f"{{{{ {path} }}}}", value) for path, value in list(fields_of(event_type).items())[:limit]
    ]


def variable_notes() -> tuple[tuple[str, str], ...]:
    """Groups and filters, each with what it means (``|money`` -> ``15 000,00 ₽``)."""
    return TEMPLATE_VARIABLES
