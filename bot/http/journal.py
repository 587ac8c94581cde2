"""The journal over HTTP (the webhook's authentication): list, one row, resend."""

from __future__ import annotations

from aiohttp import web

from bot.core.ops_texts import say
from bot.http.journal_params import BadParameter, journal_filter, language_of, row_id
from bot.http.jsonio import json_response
from bot.keys import CLOCK, CONFIG, DISPATCHER, STORAGE
from bot.pipeline.webhook_auth import authenticate_bearer
from bot.services.resend import due_text, resend_row


def _refusal(request: web.Request) -> web.Response | None:
    """Bearer tokens only: a Standard Webhooks signature covers one body, not a query or a
    resend, so it never opens the journal."""
    config = request.app[CONFIG]
    failure = authenticate_bearer(config.webhook, request.headers)
    if failure is None:
        return None
    return json_response(
        {"error": "unauthorized", "reason": failure.text(config.service.language)},
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _language(request: web.Request) -> str:
    return language_of(request.headers, request.app[CONFIG].service.language)


def _bad(exc: BadParameter) -> web.Response:
    return json_response(
        {"error": "bad_parameter", "parameter": exc.parameter, "message": exc.message}, status=400
    )


async def handle_journal_list(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        flt = journal_filter(request.query, _language(request))
    except BadParameter as exc:
        return _bad(exc)
    async with request.app[STORAGE].reader() as tx:
        rows = await tx.list_journal(flt)
    return json_response([row.public() for row in rows])


async def handle_journal_row(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        wanted = row_id(request.match_info["id"], _language(request))
    except BadParameter as exc:
        return _bad(exc)
    async with request.app[STORAGE].reader() as tx:
        row = await tx.get_journal(wanted)
    if row is None:
        return json_response({"error": "not found"}, status=404)
    return json_response(row.public())


async def handle_journal_resend(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        wanted = row_id(request.match_info["id"], _language(request))
    except BadParameter as exc:
        return _bad(exc)
    force = request.query.get("now", "").lower() in ("1", "true", "yes")
    outcome = await resend_row(request.app[STORAGE], wanted, request.app[CLOCK].now(), force=force)
    if outcome.queued and outcome.row is not None:
        request.app[DISPATCHER].wake()
        return json_response(outcome.row.public())
    config = request.app[CONFIG]
    due = due_text(outcome.row, config.service.tz) if outcome.row else ""
    answer = {
        "error": outcome.status,
        "message": say(
            f"resend.{outcome.status}", config.service.language, id=wanted, due=due, flag="?now=1"
        ),
    }
    if outcome.status == "scheduled" and outcome.row is not None:
        answer["due_at"] = outcome.row.public()["due_at"]
    return json_response(answer, status=404 if outcome.status == "not_found" else 409)
