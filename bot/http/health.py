"""``GET /healthz`` and ``GET /metrics``: the service's state for people and for Prometheus.

Anyone may ask ``/healthz`` whether the service is up: the answer is ok/503 and the state of
each component, nothing more. The details (last errors, which can quote an address; balances;
queue counts) need a bearer token (``webhook.tokens`` or ``webhook.metrics_token``), or, when
no token is configured at all, a loopback peer. ``/metrics`` takes ``webhook.metrics_token``
when it is set, else answers loopback peers only; its labels carry no addresses.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from bot.http.jsonio import json_response
from bot.keys import CONFIG, DISPATCHER, METRICS, SENDERS, STORAGE
from bot.pipeline.webhook_auth import bearer_problem
from bot.services.watch import balance_value
from storage.base import StorageUnavailable


def is_loopback_peer(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def _secret_tokens(request: web.Request, *, metrics_only: bool) -> list[str]:
    webhook = request.app[CONFIG].webhook
    tokens = [] if metrics_only else [t.get_secret_value() for t in webhook.tokens]
    if webhook.metrics_token is not None:
        tokens.append(webhook.metrics_token.get_secret_value())
    return tokens


def may_see_details(request: web.Request, *, metrics_only: bool = False) -> bool:
    tokens = _secret_tokens(request, metrics_only=metrics_only)
    if not tokens:
        return is_loopback_peer(request)
    return bearer_problem(request.headers.get("Authorization"), tokens) is None


def channel_state(status: dict[str, Any]) -> str:
    """One word per channel for anyone: ``ok``, or ``degraded`` when its last send failed."""
    return "degraded" if status.get("last_error") else "ok"


async def handle_health(request: web.Request) -> web.Response:
    app = request.app
    storage = app[STORAGE]
    database_ok = await storage.ping()
    details = may_see_details(request)
    body: dict[str, Any] = {
        "status": "ok" if database_ok else "down",
        "database": "ok" if database_ok else "down",
        "channels": {},
    }
    for name, sender in app[SENDERS].items():
        try:
            status = sender.status()
            body["channels"][name] = status if details else channel_state(status)
        except Exception as exc:  # status must never fail the health check
            body["channels"][name] = {"error": str(exc)} if details else "error"
    body["leader"] = storage.is_leader  # runs the periodic jobs
    if not details:
        return json_response(body, status=200 if database_ok else 503)
    dispatcher = app.get(DISPATCHER)
    if dispatcher is not None:
        body["last_errors"] = dispatcher.last_error
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
    if not may_see_details(request, metrics_only=True):
        lang = app[CONFIG].service.language
        reason = {
            "ru": "нужен Authorization: Bearer <webhook.metrics_token> (без него /metrics "
            "отвечает только с этой машины)",
            "en": "Authorization: Bearer <webhook.metrics_token> is required (without it "
            "/metrics answers this machine only)",
        }[lang]
        return json_response(
            {"error": "unauthorized", "reason": reason},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
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
    for name, state in (getattr(app[SENDERS].get("sms"), "health", {}) or {}).items():
        value = balance_value(state.balance)  # the last balance each portal stated
        if value is not None:
            metrics.balance.labels(name).set(value)
    return web.Response(
        body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )
