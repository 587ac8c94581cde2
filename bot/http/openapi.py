"""The service's HTTP contract as OpenAPI 3.1, generated from the same models the handlers use.

The event schema comes from the intake's pydantic models (:mod:`bot.pipeline.event_schema`),
the journal row from :class:`storage.models.JournalRow`, the limits from the configuration, so
the document cannot drift from what the running service does.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from bot.core.config import Config
from bot.pipeline.event_schema import model_schema
from storage.models import JOURNAL_COLUMNS, JOURNAL_STATUSES, JournalRow

REF = "#/components/schemas/{model}"
JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _answer(description: str, schema: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref(schema)}}}
    if headers:
        out["headers"] = headers
    return out


def _journal_row_schema() -> dict[str, Any]:
    full = TypeAdapter(JournalRow).json_schema(mode="serialization")
    properties = {name: full["properties"][name] for name in JOURNAL_COLUMNS}
    for prop in properties.values():
        prop.pop("default", None)
    properties["status"] = {"type": "string", "enum": list(JOURNAL_STATUSES)}
    return {
        "type": "object",
        "title": "JournalRow",
        "properties": properties,
        "required": list(JOURNAL_COLUMNS),
    }


def _schemas(config: Config) -> dict[str, Any]:
    event, defs = model_schema(REF)
    return {
        **defs,
        "Event": event,
        **_intake_schemas(config),
        **_error_schemas(),
        "Health": _health_schema(),
        "JournalRow": _journal_row_schema(),
    }


def _intake_schemas(config: Config) -> dict[str, Any]:
    """What the webhook takes (a batch of events) and answers (what it stored)."""
    return {
        "Batch": {
            "type": "object",
            "required": ["events"],
            "additionalProperties": False,
            "properties": {
                "events": {
                    "type": "array",
                    "items": _ref("Event"),
                    "minItems": 1,
                    "maxItems": config.webhook.max_batch,
                }
            },
        },
        "Accepted": {
            "type": "object",
            "required": ["accepted", "duplicates", "planned"],
            "properties": {
                "accepted": {"type": "array", "items": {"type": "string"}},
                "duplicates": {"type": "array", "items": {"type": "string"}},
                "planned": {"type": "integer", "minimum": 0},
            },
        },
    }


def _error_schemas() -> dict[str, Any]:
    """An error answer, with the problems of an event by their paths."""
    problem = {
        "type": "object",
        "required": ["path", "message"],
        "properties": {
            "path": {"type": "string", "examples": ["events[3].customer.phone"]},
            "message": {"type": "string"},
        },
        "additionalProperties": True,
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "problems": {"type": "array", "items": _ref("Problem")},
        },
        "additionalProperties": True,
    }
    return {"Problem": problem, "Error": error}


def _health_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "database"],
        "properties": {
            "status": {"enum": ["ok", "down"]},
            "database": {"enum": ["ok", "down"]},
            "channels": {"type": "object"},
            "queue": {"type": "object"},
        },
        "additionalProperties": True,
    }


def _webhook_operation(config: Config) -> dict[str, Any]:
    limit = config.webhook.max_body_bytes
    retry = {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "seconds to wait before retrying",
        }
    }
    return {
        "post": {
            "operationId": "postEvents",
            "summary": "Post one event or a batch",
            "description": (
                f"A batch holds at most {config.webhook.max_batch} events and is stored "
                "whole or not at all. The body is verified and parsed as raw UTF-8 "
                "bytes (a byte-order mark is tolerated). `id` is the idempotency key."
            ),
            "security": [{"bearer": []}, {"standardWebhooks": []}, {}],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"oneOf": [_ref("Event"), _ref("Batch")]}}},
            },
            "responses": {
                "202": _answer("Stored (accepted) or already known (duplicates)", "Accepted"),
                "400": _answer("Not JSON, or problems with their paths; nothing stored", "Error"),
                "401": _answer(
                    "No valid token or signature",
                    "Error",
                    {"WWW-Authenticate": {"schema": {"type": "string"}}},
                ),
                "413": _answer(f"The body is over {limit} bytes", "Error"),
                "415": _answer("Content-Type is not application/json", "Error"),
                "503": _answer("The database is unavailable: retry later", "Error", retry),
            },
        }
    }


def _journal_paths() -> dict[str, Any]:
    # bearer tokens only: a signature covers one POST body, never a query or a resend
    auth: list[dict[str, list[str]]] = [{"bearer": []}, {}]
    unauthorised = _answer("No valid bearer token (the reason says why)", "Error")
    return {
        "/journal": {"get": _list_journal(auth, unauthorised)},
        **_journal_row_paths(auth, unauthorised),
    }


def _journal_query() -> list[dict[str, Any]]:
    query: list[dict[str, Any]] = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in ("status", "channel", "event_id", "address", "order")
    ]
    query.append(
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "default": 50, "maximum": 1000},
        }
    )
    return query


def _list_journal(auth: list[dict[str, list[str]]], unauthorised: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": "listJournal",
        "summary": "Journal rows, newest first",
        "security": auth,
        "parameters": _journal_query(),
        "responses": {
            "200": {
                "description": "The rows",
                "content": {JSON: {"schema": {"type": "array", "items": _ref("JournalRow")}}},
            },
            "400": _answer("limit is not a number", "Error"),
            "401": unauthorised,
        },
    }


def _journal_row_paths(
    auth: list[dict[str, list[str]]], unauthorised: dict[str, Any]
) -> dict[str, Any]:
    """``/journal/{id}`` and its resend: one row by id, answered with the row."""
    row_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    missing = _answer("No such row (or it is being sent right now)", "Error")

    def operation(operation_id: str, summary: str, answer: str) -> dict[str, Any]:
        return {
            "operationId": operation_id,
            "summary": summary,
            "security": auth,
            "parameters": [row_id],
            "responses": {
                "200": _answer(answer, "JournalRow"),
                "401": unauthorised,
                "404": missing,
            },
        }

    return {
        "/journal/{id}": {"get": operation("getJournalRow", "One journal row", "The row")},
        "/journal/{id}/resend": {
            "post": operation(
                "resendJournalRow", "Make a row pending again", "The row, pending again"
            )
        },
    }


def openapi_document(config: Config) -> dict[str, Any]:
    """``GET /openapi.json``: the webhook, ``/healthz`` and the journal API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vestnik",
            "version": "1",
            "description": "ERP events to notifications: the webhook and the journal.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            config.webhook.path: _webhook_operation(config),
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Database and channels",
                    "responses": {
                        "200": _answer("Up", "Health"),
                        "503": _answer("Database down", "Health"),
                    },
                }
            },
            **_journal_paths(),
        },
        "components": {
            "schemas": _schemas(config),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from webhook.tokens",
                },
                "standardWebhooks": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": (
                        "Standard Webhooks: webhook-id, webhook-timestamp (unix "
                        "seconds) and webhook-signature = v1,base64(HMAC-SHA256("
                        "key, id.timestamp.body)) with the whsec_ secret"
                    ),
                },
            },
        },
    }
