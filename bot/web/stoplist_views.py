"""The stop list pages: the list with a search, the add form, removal after a
confirmation. The author of an entry is the staff member signed in."""

from __future__ import annotations

from aiohttp import web

from bot.core.channels import CHANNELS
from bot.keys import CLOCK, CONFIG, STORAGE
from bot.services.stop_list_edit import StopForm, add_entry, find_entries, get_entry, remove_entry
from bot.web.pages import STAFF, bad_request, redirect, render

LISTED = 200


async def _page(request: web.Request, form: StopForm, status: int = 200) -> web.Response:
    text = request.query.get("q", "").strip()[:200]
    entries = await find_entries(request.config_dict[STORAGE], text, limit=LISTED)
    return render(
        request,
        "stoplist.html",
        {"entries": entries, "form": form, "q": text, "channels": CHANNELS},
        status=status,
    )


async def handle_stoplist(request: web.Request) -> web.Response:
    return await _page(request, StopForm())


async def handle_add(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    form = StopForm(
        who=str(data.get("who", ""))[:300],
        event_type=str(data.get("event_type", "")).strip() or "*",
        channel=str(data.get("channel", "")).strip() or "*",
        reason=str(data.get("reason", "")),
    )
    config = request.config_dict[CONFIG]
    saved = await add_entry(
        request.config_dict[STORAGE],
        form,
        region=config.service.default_region,
        author=request[STAFF].author,
        now=request.config_dict[CLOCK].now(),
    )
    if saved is None:
        return await _page(request, form, status=400)
    raise redirect(
        "/web/stoplist", "ok", "stop.added", id=saved.id, who=f"{saved.who_kind}:{saved.who}"
    )


async def handle_remove_confirm(request: web.Request) -> web.Response:
    entry_id = int(request.match_info["id"])
    entry = await get_entry(request.config_dict[STORAGE], entry_id)
    if entry is None:
        return bad_request(request)
    return render(
        request,
        "confirm.html",
        {
            "question": ("stop.remove_confirm", {"id": entry_id, "who": entry.key}),
            "action": f"/web/stoplist/{entry_id}/remove",
            "fields": {},
            "cancel": "/web/stoplist",
            "disabled": False,
        },
    )


async def handle_remove(request: web.Request) -> web.StreamResponse:
    entry_id = int(request.match_info["id"])
    if await remove_entry(request.config_dict[STORAGE], entry_id):
        raise redirect("/web/stoplist", "ok", "stop.removed", id=entry_id)
    raise redirect("/web/stoplist", "error", "stop.not_found", id=entry_id)
