"""The rules pages: the list, one rule with its TOML and a preview of its messages on a
sample event, block/unblock, import of a TOML file (admins; the CLI's validation and
messages) and export."""

from __future__ import annotations

from aiohttp import web

from bot.keys import CLOCK, CONFIG, STORAGE, TEMPLATES
from bot.services.rules_pages import (
    export_all,
    get_rule,
    import_file,
    list_rules,
    preview_rule,
    set_blocked,
    show_toml,
)
from bot.web.pages import STAFF, bad_request, lang_of, message_page, redirect, render


async def _list_page(
    request: web.Request, *, errors: list[str] | None = None, text: str = "", status: int = 200
) -> web.Response:
    rules = await list_rules(request.config_dict[STORAGE])
    return render(
        request, "rules.html", {"rules": rules, "errors": errors, "text": text}, status=status
    )


async def handle_rules(request: web.Request) -> web.Response:
    return await _list_page(request)


async def handle_rule(request: web.Request) -> web.Response:
    rule = await get_rule(request.config_dict[STORAGE], int(request.match_info["id"]))
    if rule is None:
        return bad_request(request)
    lang = request.query.get("preview_lang") or lang_of(request)
    previews = preview_rule(
        rule,
        request.config_dict[TEMPLATES],
        request.config_dict[CONFIG],
        lang if lang in ("ru", "en") else "ru",
        request.config_dict[CLOCK].now(),
    )
    return render(
        request, "rule.html", {"rule": rule, "toml": show_toml(rule), "previews": previews}
    )


async def handle_block(request: web.Request) -> web.StreamResponse:
    rule_id = int(request.match_info["id"])
    storage = request.config_dict[STORAGE]
    rule = await get_rule(storage, rule_id)
    if rule is None:
        return bad_request(request)
    blocked = request.match_info["action"] == "block"
    await set_blocked(storage, rule_id, blocked)
    raise redirect(
        f"/web/rules/{rule_id}",
        "ok",
        "rules.now_blocked" if blocked else "rules.now_unblocked",
        name=rule.name,
    )


async def handle_import(request: web.Request) -> web.StreamResponse:
    if not request[STAFF].is_admin:
        return message_page(request, "error.admins_only", status=403)
    form = await request.post()
    upload = form.get("file")
    text = str(form.get("text", ""))
    data = b""
    if isinstance(upload, web.FileField):
        data = upload.file.read()
    if not data and text.strip():
        data = text.encode("utf-8")
    if not data:
        return await _list_page(request, errors=[], text=text, status=400)
    outcome = await import_file(request.config_dict[STORAGE], data)
    if outcome.errors is not None:
        return await _list_page(request, errors=outcome.errors, text=text, status=400)
    raise redirect(
        "/web/rules", "ok", "rules.imported", created=outcome.created, updated=outcome.updated
    )


async def handle_export(request: web.Request) -> web.Response:
    text = await export_all(request.config_dict[STORAGE])
    return web.Response(
        text=text,
        content_type="application/toml",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="rules.toml"'},
    )
