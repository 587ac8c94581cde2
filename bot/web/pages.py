"""Rendering the web pages: the language of the request, what every template sees (texts,
the staff member, the CSRF token, a notice left by the previous action) and small helpers
for redirects with a notice and for message pages.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from bot.core.web_texts import WEB_TEXTS, web_language, wt
from bot.keys import CONFIG, STORAGE
from bot.services.web_login import WebStaff, csrf_token, web_secret

STAFF = web.RequestKey("web_staff", WebStaff)
CSRF = web.RequestKey("web_csrf", str)
SECRET_CACHE = web.AppKey("web_secret_cache", dict)
LANG_COOKIE = "vestnik_lang"
NOTICE_COOKIE = "vestnik_notice"


async def secret_of(request: web.Request) -> bytes:
    """The signing key, read from the config or the database once per process."""
    cache = request.app[SECRET_CACHE]
    if "key" not in cache:
        cache["key"] = await web_secret(request.config_dict[STORAGE], request.config_dict[CONFIG])
    return bytes(cache["key"])


def lang_of(request: web.Request) -> str:
    return web_language(request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language"))


def _notice(request: web.Request, lang: str) -> dict[str, str] | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    try:
        kind, key, values = json.loads(raw)
        if key not in WEB_TEXTS or not isinstance(values, dict):
            return None
        return {
            "kind": str(kind),
            "text": wt(key, lang, **{str(k): str(v) for k, v in values.items()}),
        }
    except (ValueError, TypeError, KeyError, IndexError):
        return None


async def page_context(request: web.Request) -> dict[str, Any]:
    """The context processor: what every template sees."""
    lang = lang_of(request)
    config = request.config_dict[CONFIG]
    staff = request.get(STAFF)
    token = request.get(CSRF)
    if staff is not None and token is None:
        token = csrf_token(await secret_of(request), staff.session_id)
        request[CSRF] = token

    def local(moment: datetime | None, fmt: str = "%d.%m.%Y %H:%M:%S") -> str:
        return moment.astimezone(config.service.tz).strftime(fmt) if moment else "—"

    return {
        "lang": lang,
        "t": lambda key, **values: wt(key, lang, **values),
        "staff": staff,
        "csrf": token or "",
        "local": local,
        "notice": _notice(request, lang),
        "path": request.path,
        "here": quote(request.path_qs, safe="/"),
        "tz": config.service.timezone,
    }


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    if request.cookies.get(NOTICE_COOKIE):
        response.del_cookie(NOTICE_COOKIE, path="/web")
    return response


def redirect(location: str, kind: str = "", key: str = "", **values: Any) -> web.HTTPFound:
    """A 302 after an action, leaving a notice (a text key) for the next page."""
    response = web.HTTPFound(location)
    if key:
        response.set_cookie(
            NOTICE_COOKIE,
            json.dumps([kind or "ok", key, values], ensure_ascii=True),
            path="/web",
            httponly=True,
            samesite="Lax",
            max_age=60,
        )
    return response


def message_page(request: web.Request, key: str, *, status: int, **values: Any) -> web.Response:
    """A page with one message (errors, refusals); works without a session."""
    lang = lang_of(request)
    try:
        return aiohttp_jinja2.render_template(
            "message.html", request, {"message": wt(key, lang, **values)}, status=status
        )
    except Exception:  # the page of last resort must not fail itself
        return web.Response(text=wt(key, lang, **values), status=status, content_type="text/plain")


def bad_request(request: web.Request) -> web.Response:
    return message_page(request, "error.not_found", status=404)
