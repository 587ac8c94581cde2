"""``POST webhook.path``: the ERP's events, handed to the intake."""

from __future__ import annotations

from aiohttp import web

from bot.keys import INTAKE


async def handle_events(request: web.Request) -> web.Response:
    return await request.app[INTAKE].handle(request)
