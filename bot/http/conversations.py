"""The conversations over HTTP (bearer tokens, like ``GET /journal``), for a journal view of a
customer: ``GET /conversations?customer=<phone|id>[&limit=N][&notifications=0]`` is their
time line (messages, answers and notifications, oldest first); without ``customer``, the
latest messages of everyone."""

from __future__ import annotations

from aiohttp import web

from bot.http.jsonio import json_response
from bot.keys import CONFIG, STORAGE
from bot.pipeline.webhook_auth import authenticate_bearer
from bot.services.dialogue import find_customer, timeline


async def handle_conversations(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    failure = authenticate_bearer(config.webhook, request.headers)
    if failure is not None:
        return json_response(
            {"error": "unauthorized", "reason": failure.text(config.service.language)},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        limit = max(1, min(int(request.query.get("limit", "50")), 1000))
    except ValueError:
        return json_response({"error": "limit must be a number"}, status=400)
    who = request.query.get("customer", "").strip()
    async with request.app[STORAGE].reader() as tx:
        if not who:
            messages = await tx.list_conversation(limit=limit)
            return json_response([m.public() for m in messages])
        found = await find_customer(tx, who, config.service.default_region)
        if found is None:
            return json_response({"error": f"customer {who} not found"}, status=404)
        entries = await timeline(
            tx, found, limit=limit, notifications=request.query.get("notifications") != "0"
        )
    return json_response([entry.public() for entry in entries])
