"""Logging in and out: ``GET /web/login?t=<one-time link>`` opens a session, the same page
without a token explains how to get a link from the bot; ``POST /web/logout``; the language
switch ``GET /web/lang?to=en&next=/web/...``."""

from __future__ import annotations

from aiohttp import web

from bot.keys import CLOCK, CONFIG, STORAGE
from bot.services.web_login import current_staff, redeem_login, session_cookie
from bot.web.pages import LANG_COOKIE, render, secret_of
from bot.web.security import SESSION_COOKIE


def _login_page(request: web.Request, problem: str | None, status: int) -> web.Response:
    return render(request, "login.html", {"problem": problem}, status=status)


async def handle_login(request: web.Request) -> web.StreamResponse:
    token = request.query.get("t", "")
    if not token:
        return _login_page(request, None, 200)
    config = request.config_dict[CONFIG]
    storage = request.config_dict[STORAGE]
    now = request.config_dict[CLOCK].now()
    secret = await secret_of(request)
    outcome = await redeem_login(storage, secret, token, now)
    if isinstance(outcome, str):
        return _login_page(request, f"login.{outcome}", 403)
    if await current_staff(storage, config, outcome) is None:
        return _login_page(request, "login.not_staff", 403)
    response = web.HTTPFound("/web/journal")
    hours = config.web.session_hours
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(secret, outcome, now, hours),
        path="/web",
        httponly=True,
        samesite="Lax",
        secure=config.web.secure,
        max_age=int(hours * 3600),
    )
    raise response


async def handle_logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPFound("/web/login")
    response.del_cookie(SESSION_COOKIE, path="/web")
    raise response


async def handle_language(request: web.Request) -> web.StreamResponse:
    to = request.query.get("to", "")
    target = request.query.get("next", "/web/journal")
    if not target.startswith("/web/") or target.startswith("//"):
        target = "/web/journal"  # never a redirect off the site
    response = web.HTTPFound(target)
    if to in ("ru", "en"):
        response.set_cookie(LANG_COOKIE, to, path="/web", samesite="Lax", max_age=365 * 86400)
    raise response
