"""The event contract as JSON Schema (2020-12), generated from the intake's pydantic models.

Nothing here is kept by hand: the schema is :class:`~bot.pipeline.events.EventIn` as pydantic
describes it, with the few checks that live in the models' validators (and which pydantic
cannot put into a schema) spelled out, so that a body valid against the schema is a body the
intake accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from bot.core.catalog import CATALOG
from bot.pipeline.events import EventIn

SCHEMA_ID = "https://vestnik.invalid/schema/event.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# ISO 8601 as the intake reads it: a date, or a date and time with an optional offset; a time
# without an offset is in the service's time zone (1C sends local times).
ISO_DATETIME = (
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?)?$"
)
DATETIME_DESCRIPTION = (
    "ISO 8601 date or date and time; without an offset the time is in the service's time zone"
)

# What the models' field validators check, which pydantic cannot see (model, field) -> schema.
VALIDATOR_CHECKS: dict[tuple[str, str], dict[str, Any]] = {
    ("PersonIn", "birthday"): {
        "type": "string",
        "pattern": r"^(|(\d{4}|-)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]).*)$",
        "description": "YYYY-MM-DD, or --MM-DD for a birthday without a year",
    },
}

DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("EventIn", "id"): "the idempotency key: posting the same id again stores nothing new",
    ("EventIn", "type"): "an event type of the catalog (see `vestnik templates`) or your own",
    ("EventIn", "data"): "anything else; unknown top-level fields are moved here",
    ("PersonIn", "id"): "the person's id in the ERP (stable across events)",
    ("PersonIn", "phone"): "any form 1C stores: 8 (916) 123-45-67, +7 916 1234567, ...",
}


class _Generator(GenerateJsonSchema):
    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> JsonSchemaValue:
        return {"type": "string", "pattern": ISO_DATETIME, "description": DATETIME_DESCRIPTION}


def _refine(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    models = {**defs, "EventIn": schema}
    for (model, field), check in VALIDATOR_CHECKS.items():
        models[model]["properties"][field] = {"anyOf": [check, {"type": "null"}]}
    for (model, field), text in DESCRIPTIONS.items():
        models[model]["properties"][field]["description"] = text
    schema["properties"]["type"]["examples"] = sorted(
        name for name, t in CATALOG.items() if t.kind != "derived"
    )


def model_schema(ref_template: str = "#/$defs/{model}") -> tuple[dict[str, Any], dict[str, Any]]:
    """The event's schema and its sub-models, with ``$ref`` written by ``ref_template``."""
    schema = EventIn.model_json_schema(
        ref_template=ref_template, schema_generator=_Generator, mode="validation"
    )
    defs = schema.pop("$defs", {})
    _refine(schema, defs)
    return schema, defs


def event_schema() -> dict[str, Any]:
    """``GET /schema/event.json``: one event object, JSON Schema 2020-12."""
    schema, defs = model_schema()
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        **schema,
        "title": "Vestnik event",
        "description": (
            'One business event posted by the ERP to the webhook, alone or in {"events": [...]}.'
        ),
        "$defs": defs,
    }
