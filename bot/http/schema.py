"""``GET /schema/event.json`` and ``GET /openapi.json``: the contract, for the ERP's developers.

Both are public documents (no authentication): they describe the API, hold no data, and an
integrator needs them before they have a token.
"""

from __future__ import annotations

from aiohttp import web

from bot.http.jsonio import json_response
from bot.http.openapi import openapi_document
from bot.keys import CONFIG
from bot.pipeline.event_schema import event_schema


async def handle_event_schema(request: web.Request) -> web.Response:
    return json_response(event_schema(), content_type="application/schema+json")


async def handle_openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document(request.app[CONFIG]))
