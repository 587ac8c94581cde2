"""The web pages' middlewares, outermost first:

1. :func:`headers_middleware` — security headers on every answer (CSP without inline
   scripts, no framing, no referrer; ``no-store`` on everything but the static files), and
   the error pages: a database outage is a 503 page, anything unexpected a logged 500 page;
2. :func:`session_middleware` — every page but the login ones needs a session cookie whose
   staff member is still staff (checked on each request); without one: 302 to the
   "log in from the bot" page;
3. :func:`csrf_middleware` — every POST carries the session's CSRF token (form field
   ``_csrf`` or header ``X-CSRF-Token``), else 403.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.keys import CLOCK, CONFIG, STORAGE
from bot.services.web_login import csrf_ok, current_staff, read_session
from bot.web.pages import STAFF, message_page, secret_of
from storage.base import StorageUnavailable

log = logging.getLogger("vestnik.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION_COOKIE = "vestnik_session"
PUBLIC_PREFIXES = ("/web/login", "/web/static/", "/web/lang")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _secure(response: web.StreamResponse, path: str) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if not path.startswith("/web/static/"):
        headers["Cache-Control"] = "no-store"


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404 and exc.content_type != "text/html":
            response = message_page(request, "error.not_found", status=404)
        elif exc.status == 405:
            response = message_page(request, "error.not_found", status=405)
        else:  # redirects and the like go out as they are, with the headers
            _secure(exc, request.path)
            raise
    except StorageUnavailable as exc:
        log.warning("web %s: storage unavailable: %s", request.path, exc)
        response = message_page(request, "error.storage", status=503)
    except Exception:
        log.exception("web %s failed", request.path)
        response = message_page(request, "error.internal", status=500)
    _secure(response, request.path)
    return response


def _public(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p) for p in PUBLIC_PREFIXES)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _public(request.path):
        return await handler(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    now = request.config_dict[CLOCK].now()
    session = read_session(await secret_of(request), cookie, now) if cookie else None
    staff = None
    if session is not None:
        identity, session_id = session
        staff = await current_staff(
            request.config_dict[STORAGE], request.config_dict[CONFIG], identity
        )
        if staff is not None:
            staff = dataclasses.replace(staff, session_id=session_id)
    if staff is None:
        response = web.HTTPFound("/web/login")
        if cookie:
            response.del_cookie(SESSION_COOKIE, path="/web")
        raise response
    request[STAFF] = staff
    return await handler(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method != "POST" or _public(request.path):
        return await handler(request)
    staff = request.get(STAFF)
    given = request.headers.get("X-CSRF-Token", "")
    if not given:
        form = await request.post()
        value = form.get("_csrf", "")
        given = value if isinstance(value, str) else ""
    if staff is None or not csrf_ok(await secret_of(request), staff.session_id, given):
        return message_page(request, "error.csrf", status=403)
    return await handler(request)
