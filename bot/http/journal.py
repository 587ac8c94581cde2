"""The journal over HTTP (the webhook's authentication): list, one row, resend."""

from __future__ import annotations

import time

from aiohttp import web

from bot.http.journal_params import BadParameter, journal_filter, language_of, row_id
from bot.http.jsonio import json_response
from bot.keys import CLOCK, CONFIG, DISPATCHER, STORAGE
from bot.pipeline.webhook_auth import authenticate


def _authorised(request: web.Request, body: bytes = b"") -> bool:
    return authenticate(request.app[CONFIG].webhook, request.headers, body, time.time()) is None


def _language(request: web.Request) -> str:
    return language_of(request.headers, request.app[CONFIG].service.language)


def _bad(exc: BadParameter) -> web.Response:
    return json_response({"error": "bad_parameter", "parameter": exc.parameter,
                          "message": exc.message}, status=400)


async def handle_journal_list(request: web.Request) -> web.Response:
    if not _authorised(request):
        return json_response({"error": "unauthorized"}, status=401)
    try:
        flt = journal_filter(request.query, _language(request))
    except BadParameter as exc:
        return _bad(exc)
    async with request.app[STORAGE].reader() as tx:
        rows = await tx.list_journal(flt)
    return json_response([row.public() for row in rows])


async def handle_journal_row(request: web.Request) -> web.Response:
    if not _authorised(request):
        return json_response({"error": "unauthorized"}, status=401)
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
    body = await request.read()
    if not _authorised(request, body):
        return json_response({"error": "unauthorized"}, status=401)
    try:
        wanted = row_id(request.match_info["id"], _language(request))
    except BadParameter as exc:
        return _bad(exc)
    now = request.app[CLOCK].now()
    row = await request.app[STORAGE].write(lambda tx: tx.resend(wanted, now))
    if row is None:
        return json_response({"error": "not found or being sent"}, status=404)
    request.app[DISPATCHER].wake()
    return json_response(row.public())
