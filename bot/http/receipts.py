"""``POST /receipts/<portal>/<secret>``: SMS portals' delivery status callbacks.

The secret in the path is generated per portal and kept in the database
(``vestnik receipt-urls`` prints the addresses); it is compared in constant time, and a
wrong one answers 404 like any unknown path and is counted as forged. The path is never
logged (the service runs without an access log). The portal's adapter reads its own
format and says what to answer (sms.ru wants ``100``, smsc.ru ``OK``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.keys import RECEIPTS
from senders.sms.portal import CallbackRefused, CallbackRequest

log = logging.getLogger("vestnik.receipts")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _callback_request(request: web.Request) -> CallbackRequest:
    form = list(request.query.items())
    body = await request.read()
    parsed: Any = None
    if request.content_type in FORM_TYPES:
        form += [(key, str(value)) for key, value in (await request.post()).items()]
    elif body.strip()[:1] in (b"{", b"["):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise CallbackRefused("the body is not valid JSON") from None
    return CallbackRequest(form, json=parsed, headers=dict(request.headers), body=body)


async def handle_receipt(request: web.Request) -> web.Response:
    book = request.app.get(RECEIPTS)
    name = request.match_info["portal"]
    if book is None or not await book.secret_matches(name, request.match_info["secret"]):
        if book is not None:
            book.ignored(name if name in book.portals else "?", "forged")
        return web.Response(status=404, text="404: Not Found")
    portal = book.portals[name]
    try:
        reading = portal.read_callback(await _callback_request(request))
    except (CallbackRefused, ValueError, UnicodeDecodeError) as exc:
        book.ignored(name, "malformed")
        log.info("receipts: %s sent a callback that is not in its format: %s", name, exc)
        return web.Response(status=400, text=f"not a {portal.kind} status callback")
    await book.apply(name, reading.reports)
    return web.Response(text=reading.answer)
