"""``GET /healthz`` and ``GET /metrics``: the service's state for people and for Prometheus."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.http.jsonio import json_response
from bot.keys import DISPATCHER, METRICS, SENDERS, STORAGE
from storage.base import StorageUnavailable


async def handle_health(request: web.Request) -> web.Response:
    app = request.app
    storage = app[STORAGE]
    database_ok = await storage.ping()
    body: dict[str, Any] = {"status": "ok" if database_ok else "down",
                            "database": "ok" if database_ok else "down", "channels": {}}
    for name, sender in app[SENDERS].items():
        try:
            body["channels"][name] = sender.status()
        except Exception as exc:  # status must never fail the health check
            body["channels"][name] = {"error": str(exc)}
    dispatcher = app.get(DISPATCHER)
    if dispatcher is not None:
        body["last_errors"] = dispatcher.last_error
    body["leader"] = storage.is_leader  # runs the periodic jobs
    if database_ok:
        try:
            async with storage.reader() as tx:
                body["queue"] = await tx.counts()
        except StorageUnavailable:
            database_ok = False
            body["status"] = body["database"] = "down"
    return json_response(body, status=200 if database_ok else 503)


async def handle_metrics(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    try:
        async with app[STORAGE].reader() as tx:
            counts = await tx.counts()
        metrics.queue_depth.clear()
        for channel, statuses in counts.items():
            for status in ("pending", "scheduled", "sending"):
                metrics.queue_depth.labels(channel, status).set(statuses.get(status, 0))
    except StorageUnavailable:
        pass
    return web.Response(body=metrics.render(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
