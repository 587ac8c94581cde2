"""The managers' web pages under ``/web/``: journal, stop list, rules, status.

Server-rendered (aiohttp-jinja2, autoescape on), a little CSS and JS shipped in
``static/``, nothing from elsewhere. The pages are a sub-application, so their session,
CSRF and header middlewares touch nothing else of the service. :func:`add_web_routes` mounts
them (``bot/app.py`` calls it); ``web.enabled = false`` leaves them out.
"""

from __future__ import annotations

from importlib import resources

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.keys import CONFIG
from bot.web import journal_views, login_views, rules_views, status_views, stoplist_views
from bot.web.pages import SECRET_CACHE, page_context
from bot.web.security import (
    csrf_middleware,
    headers_middleware,
    session_middleware,
)


def build_web_app() -> web.Application:
    webapp = web.Application(middlewares=[headers_middleware, session_middleware, csrf_middleware])
    webapp[SECRET_CACHE] = {}
    aiohttp_jinja2.setup(
        webapp,
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        context_processors=[page_context],
        undefined=jinja2.StrictUndefined,
    )
    add = webapp.router
    add.add_get("/", journal_views.handle_root)
    add.add_get("/login", login_views.handle_login)
    add.add_post("/logout", login_views.handle_logout)
    add.add_get("/lang", login_views.handle_language)
    add.add_get("/journal", journal_views.handle_journal)
    add.add_get("/journal/resend-failed", journal_views.handle_resend_failed_confirm)
    add.add_post("/journal/resend-failed", journal_views.handle_resend_failed)
    add.add_get("/journal/{id:\\d{1,18}}", journal_views.handle_row)
    add.add_post("/journal/{id:\\d{1,18}}/resend", journal_views.handle_resend)
    add.add_get("/stoplist", stoplist_views.handle_stoplist)
    add.add_post("/stoplist", stoplist_views.handle_add)
    add.add_get("/stoplist/{id:\\d{1,18}}/remove", stoplist_views.handle_remove_confirm)
    add.add_post("/stoplist/{id:\\d{1,18}}/remove", stoplist_views.handle_remove)
    add.add_get("/rules", rules_views.handle_rules)
    add.add_post("/rules/import", rules_views.handle_import)
    add.add_get("/rules/export", rules_views.handle_export)
    add.add_get("/rules/{id:\\d{1,18}}", rules_views.handle_rule)
    add.add_post("/rules/{id:\\d{1,18}}/{action:block|unblock}", rules_views.handle_block)
    add.add_get("/status", status_views.handle_status)
    add.add_static("/static", str(resources.files("bot.web") / "static"))
    return webapp


async def _to_web_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/web/")


def add_web_routes(app: web.Application) -> None:
    """Mount the pages at ``/web/`` unless ``web.enabled`` is off."""
    if not app[CONFIG].web.enabled:
        return
    app.router.add_get("/web", _to_web_root)
    app.add_subapp("/web", build_web_app())
