"""The service's HTTP surface, one module per concern; :func:`add_routes` mounts them all."""

from __future__ import annotations

from aiohttp import web

from bot.http import conversations, health, journal, receipts, schema, webhook
from bot.keys import CONFIG


def add_routes(app: web.Application) -> None:
    config = app[CONFIG]
    app.router.add_post(config.webhook.path, webhook.handle_events)
    app.router.add_get("/healthz", health.handle_health)
    app.router.add_get("/metrics", health.handle_metrics)
    app.router.add_get("/journal", journal.handle_journal_list)
    app.router.add_get("/journal/{id}", journal.handle_journal_row)
    app.router.add_post("/journal/{id}/resend", journal.handle_journal_resend)
    app.router.add_get("/schema/event.json", schema.handle_event_schema)
    app.router.add_get("/openapi.json", schema.handle_openapi)
    app.router.add_post("/receipts/{portal}/{secret}", receipts.handle_receipt)
    app.router.add_get("/conversations", conversations.handle_conversations)
