"""``/dialog <phone|customer id>``: a customer's messages, the staff answers and their
notifications in one time line (staff only; the router is in handlers/conversations.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.core.catalog import CATALOG
from bot.core.config import Config
from bot.core.telegram_text import split_message
from bot.core.texts import t
from bot.services.dialogue import Entry, find_customer, timeline
from storage.base import Storage

SHOWN = 30
TEXT_PREVIEW = 300


def entry_line(entry: Entry, zone: ZoneInfo, lang: str) -> str:
    when = entry.at.astimezone(zone).strftime("%d.%m %H:%M")
    if entry.message is not None:
        m = entry.message
        text = (m.text or f"[{m.kind}]")[:TEXT_PREVIEW]
        if m.direction == "in":
            return t("dialog.in", lang, when=when, channel=m.channel, text=text)
        return t(
            "dialog.out",
            lang,
            when=when,
            staff=m.staff_name or "?",
            channel=m.channel,
            status=m.status + (f": {m.error}" if m.error else ""),
            text=text,
        )
    row = entry.notification
    assert row is not None
    kind = CATALOG.get(row.event_type)
    title = (kind.title_en if lang == "en" else kind.title_ru) if kind else row.event_type
    return t(
        "dialog.notification",
        lang,
        when=when,
        type=title or row.event_type,
        channel=row.channel,
        status=row.status,
        id=row.id,
    )


async def dialog_answer(args: str | None, storage: Storage, config: Config, lang: str) -> list[str]:
    who = (args or "").strip()
    if not who:
        return [t("dialog.usage", lang)]
    async with storage.reader() as tx:
        found = await find_customer(tx, who, config.service.default_region)
        entries = await timeline(tx, found, limit=SHOWN) if found is not None else []
    if found is None:
        return [t("dialog.not_found", lang, who=who)]
    if not entries:
        return [t("dialog.empty", lang, who=who)]
    name = found.customer.name if found.customer and found.customer.name else found.key
    lines = [t("dialog.header", lang, who=name)]
    lines += [entry_line(e, config.service.tz, lang) for e in entries]
    if len(entries) >= SHOWN:
        lines.append(t("dialog.more", lang, shown=SHOWN))
    return split_message(str(Markup("\n").join(Markup(line) for line in lines)))
