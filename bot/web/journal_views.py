"""The journal pages: the list with its filters and search, one row in full, Resend, and
resending every failed row of the current filter after a confirmation with the count."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.core.catalog import CATALOG
from bot.core.channels import CHANNELS
from bot.core.timeutil import parse_rfc3339
from bot.keys import CLOCK, CONFIG, DISPATCHER, STORAGE
from bot.services.journal_search import (
    FILTER_KEYS,
    JournalQuery,
    count_failed,
    journal_page,
    read_query,
    resend_failed,
    resend_one,
)
from bot.web.pages import bad_request, redirect, render
from storage.models import JOURNAL_STATUSES

# the detail view's time and receipt fields: shown when the row has them (issue 16's
# receipts arrive as more columns of the same row)
ROW_TIMES = (
    ("created_at", "row.created"),
    ("due_at", "row.due"),
    ("sent_at", "row.sent"),
    ("failed_at", "row.failed"),
    ("delivered_at", "row.delivered"),
)


def filter_url(query: JournalQuery, **changes: str | int) -> str:
    """This page's URL with some parameters changed (empty ones left out)."""
    merged = {**query.values, **{key: str(value) for key, value in changes.items()}}
    params = {
        key: value
        for key, value in merged.items()
        if value and not (key == "page" and value == "1")
    }
    return "/web/journal" + (f"?{urlencode(params)}" if params else "")


async def _wake(request: web.Request) -> None:
    dispatcher = request.config_dict.get(DISPATCHER)
    if dispatcher is not None:
        dispatcher.wake()
    await request.config_dict[STORAGE].notify_new_rows()


async def handle_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/web/journal")


async def handle_journal(request: web.Request) -> web.Response:
    storage = request.config_dict[STORAGE]
    query = await read_query(storage, request.config_dict[CONFIG], request.query)
    page = await journal_page(storage, query)
    failed = await count_failed(storage, query.search)
    async with storage.reader() as tx:
        rules = sorted(
            {rule.name for rule in await tx.list_rules()}
            | ({query.values["rule"]} if query.values["rule"] else set())
        )
    return render(
        request,
        "journal.html",
        {
            "rules": rules,
            "query": query,
            "values": query.values,
            "page": page,
            "failed": failed,
            "statuses": JOURNAL_STATUSES,
            "channels": CHANNELS,
            "types": sorted(CATALOG),
            "url": lambda **changes: filter_url(query, **changes),
            "resend_url": "/web/journal/resend-failed?"
            + urlencode({k: v for k, v in query.values.items() if v}),
        },
    )


async def handle_row(request: web.Request) -> web.Response:
    row_id = int(request.match_info["id"])
    async with request.config_dict[STORAGE].reader() as tx:
        row = await tx.get_journal(row_id)
    if row is None:
        return bad_request(request)
    public = row.public()
    times = [(label, parse_rfc3339(public[name])) for name, label in ROW_TIMES if name in public]
    return render(
        request,
        "row.html",
        {
            "row": row,
            "times": times,
            "receipt": public.get("receipt"),
            "back": request.query.get("back", ""),
        },
    )


async def handle_resend(request: web.Request) -> web.StreamResponse:
    row_id = int(request.match_info["id"])
    row = await resend_one(request.config_dict[STORAGE], row_id, request.config_dict[CLOCK].now())
    target = f"/web/journal/{row_id}"
    if row is None:
        async with request.config_dict[STORAGE].reader() as tx:
            if await tx.get_journal(row_id) is None:
                return bad_request(request)
        raise redirect(target, "error", "row.not_resent", id=row_id)
    await _wake(request)
    raise redirect(target, "ok", "row.resent", id=row_id)


async def handle_resend_failed_confirm(request: web.Request) -> web.Response:
    storage = request.config_dict[STORAGE]
    query = await read_query(storage, request.config_dict[CONFIG], request.query)
    count = await count_failed(storage, query.search)
    return render(
        request,
        "confirm.html",
        {
            "question": ("journal.resend_failed_confirm", {"count": count}),
            "action": "/web/journal/resend-failed",
            "fields": {k: v for k, v in query.values.items() if v},
            "cancel": filter_url(query),
            "disabled": count == 0,
        },
    )


async def handle_resend_failed(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    params = {key: str(form.get(key, "")) for key in FILTER_KEYS}
    storage = request.config_dict[STORAGE]
    query = await read_query(storage, request.config_dict[CONFIG], params)
    count = await resend_failed(storage, query.search, request.config_dict[CLOCK].now())
    if count:
        await _wake(request)
    raise redirect(filter_url(query), "ok", "journal.resent_many", count=count)
