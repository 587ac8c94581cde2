"""Staff commands (the README's Telegram section): /journal, /resend, /stoplist, /rules (+ a .toml document from an
admin), /test, /inbox, /status, /preview.

Every handler here sits behind :class:`~handlers.filters.IsStaff`; non-staff users reach the
refusal router instead. Bad arguments get the command's usage line. Long answers are split
under Telegram's 4096 characters.

Workflow data used: ``storage``, ``config``, ``senders``, ``clock``, ``control``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from markupsafe import Markup, escape

from bot.core.channels import CHANNELS, channel_unavailable, providers_of
from bot.core.config import Config
from bot.core.phones import normalize_phone
from bot.core.sending import Sender
from bot.core.telegram_text import split_message
from bot.core.texts import language_of, t
from bot.core.timeutil import Clock
from bot.pipeline.preview import preview_line, preview_rows
from bot.pipeline.rules import RuleFileError, export_rules_toml, import_rules
from bot.services.resend import due_text, resend_row
from bot.services.send_test import send_with, test_message
from handlers.filters import IsStaff, StaffMember
from handlers.menu import STAFF_COMMANDS
from storage.base import JournalFilter, Storage
from storage.models import JournalRow, StopEntry

log = logging.getLogger("vestnik.bot.staff")

LATEST = 10
LIST_CAP = 50  # rows in one listing; narrower queries show the rest
MAX_RULES_FILE = 256 * 1024
_EVENT_TYPE = re.compile(r"^([a-z][a-z0-9_]{0,63}|\*)$")
STATUS_ORDER = ("pending", "scheduled", "sending", "failed", "sent", "stopped", "skipped",
                "cancelled")


@dataclass(slots=True)
class DispatchControl:
    """What the bot may ask of the running dispatcher (it starts after the bot)."""

    wake: Callable[[], None] = lambda: None
    last_errors: Callable[[], Mapping[str, str]] = dict
    extra: dict[str, Any] = field(default_factory=dict)


def lang_of(message: Message) -> str:
    return language_of(message.from_user.language_code if message.from_user else None)


async def answer_long(message: Message, text: str) -> None:
    for part in split_message(text):
        await message.answer(part)


# formatting ---------------------------------------------------------------------------------------
def _local(moment: datetime | None, config: Config) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(config.service.tz).strftime("%d.%m %H:%M")


def row_line(row: JournalRow, config: Config) -> str:
    """``#12 25.11 10:00 sent telegram Иван Петров order_booked — error`` (escaped HTML)."""
    moment = row.sent_at or row.failed_at or row.due_at or row.created_at
    who = row.recipient_name or row.address or row.recipient_id or row.recipient_role
    line = f"<b>#{row.id}</b> {_local(moment, config)} {escape(row.status)} " \
           f"{escape(row.channel)} {escape(who or '—')} {escape(row.event_type)}"
    problem = row.error or (row.reason if row.status in ("skipped", "stopped", "cancelled")
                            else None)
    if problem:
        short = problem if len(problem) <= 120 else problem[:119] + "…"
        line += f" — {escape(short)}"
    return line


def row_full(row: JournalRow) -> str:
    lines = []
    for name, value in row.public().items():
        if name == "text" or value in (None, ""):
            continue
        lines.append(f"<b>{escape(name)}</b>: {escape(str(value))}")
    if row.text:
        lines.append(f"<b>text</b>:\n<pre>{escape(row.text)}</pre>")
    return "\n".join(lines)


def stop_line(entry: StopEntry, config: Config) -> str:
    parts = [f"<b>#{entry.id}</b> {escape(entry.who_kind)}:{escape(entry.who)}",
             escape(entry.event_type), escape(entry.channel)]
    if entry.reason:
        parts.append(escape(entry.reason))
    if entry.author:
        parts.append(escape(entry.author))
    parts.append(_local(entry.created_at, config))
    return " · ".join(str(p) for p in parts)


# /journal argument forms, tried in order ----------------------------------------------------------
@dataclass(slots=True)
class JournalQuery:
    title: str  # journal.what.* key
    value: str = ""
    filters: list[JournalFilter] = field(default_factory=list)
    row_id: int | None = None


async def journal_query(arg: str, storage: Storage, config: Config,
                        clock: Clock) -> JournalQuery:
    if not arg:
        return JournalQuery("latest", filters=[JournalFilter(limit=LATEST)])
    if arg.lower() == "failed":
        return JournalQuery("failed", filters=[JournalFilter(status="failed", limit=LATEST)])
    if arg.lower() == "today":
        local = clock.now().astimezone(config.service.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return JournalQuery("today", filters=[JournalFilter(since=midnight,
                                                            limit=LIST_CAP + 1)])
    plain = arg.lstrip("#")
    if plain.isdigit() and len(plain) <= 12 and (arg.startswith("#") or len(plain) < 10) \
            and not plain.startswith("0"):  # 000123 is an order number, not row 123
        return JournalQuery("order", value=plain, row_id=int(plain),
                            filters=[JournalFilter(order=plain, limit=LIST_CAP + 1)])
    phone = normalize_phone(arg, config.service.default_region)
    if phone is not None:
        addresses = [phone]
        async with storage.reader() as tx:
            link = await tx.find_active_link(phone=phone)
            if link is not None:
                addresses.append(str(link.chat_id))
            for kind in ("customer", "staff"):
                person = await tx.find_person_by_phone(kind, phone)
                if person is not None and person.email:
                    addresses.append(person.email.strip())
        return JournalQuery("phone", value=phone, filters=[
            JournalFilter(address=a, limit=LIST_CAP + 1) for a in dict.fromkeys(addresses)])
    return JournalQuery("order", value=arg, filters=[JournalFilter(order=arg,
                                                                   limit=LIST_CAP + 1)])


# /stoplist add: who is what -----------------------------------------------------------------------
WHO_PREFIXES = ("customer", "phone", "email", "chat")


def parse_who(raw: str, region: str) -> tuple[str, str] | None:
    kind, sep, value = raw.partition(":")
    if sep and kind in WHO_PREFIXES and value:
        if kind == "phone":
            phone = normalize_phone(value, region)
            return ("phone", phone) if phone else None
        if kind == "chat":
            return ("chat", value) if value.lstrip("-").isdigit() else None
        return (kind, value.lower() if kind == "email" else value)
    if "@" in raw:
        return ("email", raw.strip().lower())
    digits = sum(ch.isdigit() for ch in raw)
    if raw.startswith("+") or digits >= 10:
        phone = normalize_phone(raw, region)
        if phone:
            return ("phone", phone)
    return ("customer", raw)


def build_staff_router() -> Router:
    router = Router(name="staff")
    router.message.filter(IsStaff())

    @router.message(Command("journal"))
    async def journal(message: Message, command: CommandObject, storage: Storage,
                      config: Config, clock: Clock) -> None:
        lang = lang_of(message)
        arg = " ".join((command.args or "").split())
        if " " in arg and normalize_phone(arg, config.service.default_region) is None:
            await message.answer(t("journal.usage", lang))  # only a phone has spaces
            return
        query = await journal_query(arg, storage, config, clock)
        async with storage.reader() as tx:
            if query.row_id is not None:
                row = await tx.get_journal(query.row_id)
                if row is not None:
                    await answer_long(message, row_full(row))
                    return
            found: dict[int, JournalRow] = {}
            for flt in query.filters:
                for row in await tx.list_journal(flt):
                    found[row.id or 0] = row
        if not found:
            await message.answer(t("journal.empty", lang))
            return
        rows = sorted(found.values(), key=lambda r: r.id or 0, reverse=True)
        cap = LATEST if query.title in ("latest", "failed") else LIST_CAP
        what = t(f"journal.what.{query.title}", lang, value=query.value)
        lines = [t("journal.header", lang, what=Markup(what))]
        lines += [row_line(row, config) for row in rows[:cap]]
        if len(rows) > cap:
            lines.append(t("journal.more", lang, shown=cap))
        await answer_long(message, "\n".join(lines))

    @router.message(Command("resend"))
    async def resend(message: Message, command: CommandObject, storage: Storage,
                     clock: Clock, control: DispatchControl, config: Config) -> None:
        lang = lang_of(message)
        words = (command.args or "").split()
        arg = words[0].lstrip("#") if words else ""
        force = words[1:] == ["now"]
        if not arg.isdigit() or (len(words) > 1 and not force):
            await message.answer(t("resend.usage", lang))
            return
        outcome = await resend_row(storage, int(arg), clock.now(), force=force)
        row = outcome.row
        if outcome.status == "scheduled" and row is not None:
            await message.answer(t("resend.scheduled", lang, id=arg,
                                   due=due_text(row, config.service.tz)))
            return
        if not outcome.queued or row is None:
            await message.answer(t("resend.not_found", lang, id=arg))
            return
        control.wake()
        await message.answer(t("resend.done", lang, id=row.id, channel=row.channel,
                               address=row.address or "—"))

    @router.message(Command("stoplist"))
    async def stoplist(message: Message, command: CommandObject, storage: Storage,
                       config: Config, clock: Clock, staff: StaffMember) -> None:
        lang = lang_of(message)
        args = (command.args or "").split()
        if not args:
            async with storage.reader() as tx:
                entries = await tx.list_stops(limit=LIST_CAP)
            if not entries:
                await message.answer(t("stoplist.empty", lang))
                return
            lines = [t("stoplist.header", lang)] + [stop_line(e, config) for e in entries]
            await answer_long(message, "\n".join(lines))
            return
        action = args[0].lower()
        if action == "remove" and len(args) == 2 and args[1].lstrip("#").isdigit():
            entry_id = int(args[1].lstrip("#"))
            removed = await storage.write(lambda tx: tx.remove_stop(entry_id))
            await message.answer(t("stoplist.removed" if removed else "stoplist.not_found",
                                   lang, id=entry_id))
            return
        if action != "add" or len(args) < 2:
            await message.answer(t("stoplist.usage", lang))
            return
        who = parse_who(args[1], config.service.default_region)
        event_type = args[2] if len(args) > 2 else "*"
        channel = args[3].lower() if len(args) > 3 else "*"
        if who is None:
            await message.answer(t("stoplist.usage", lang))
            return
        if not _EVENT_TYPE.match(event_type):
            await message.answer(t("stoplist.bad_type", lang, value=event_type))
            return
        if channel != "*" and channel not in CHANNELS:
            await message.answer(t("stoplist.bad_channel", lang, value=channel,
                                   channels=", ".join(CHANNELS)))
            return
        entry = StopEntry(who=who[1], who_kind=who[0], event_type=event_type, channel=channel,
                          reason=" ".join(args[4:]),
                          author=staff.staff_id or f"telegram:{staff.user_id}",
                          created_at=clock.now())
        saved = await storage.write(lambda tx: tx.add_stop(entry))
        await message.answer(t("stoplist.added", lang, id=saved.id,
                               who=f"{saved.who_kind}:{saved.who}", event_type=saved.event_type,
                               channel=saved.channel))

    @router.message(Command("rules"))
    async def rules(message: Message, command: CommandObject, storage: Storage) -> None:
        lang = lang_of(message)
        args = (command.args or "").split(maxsplit=1)
        if not args:
            async with storage.reader() as tx:
                stored = await tx.list_rules()
            if not stored:
                await message.answer(t("rules.empty", lang))
                return
            lines = [t("rules.header", lang)]
            for rule in stored:
                channels = ", ".join(rule.definition.get("channels", []))
                mark = " ⛔" if rule.blocked else ""
                lines.append(f"<b>#{rule.id}</b> {escape(rule.name)} — {escape(rule.event)} → "
                             f"{escape(channels)}{mark}")
            await answer_long(message, "\n".join(lines))
            return
        action = args[0].lower()
        if action not in ("show", "block", "unblock") or len(args) != 2:
            await message.answer(t("rules.usage", lang))
            return
        ref_text = args[1].strip().lstrip("#")
        ref: int | str = int(ref_text) if ref_text.isdigit() else ref_text
        async with storage.reader() as tx:
            rule = await tx.get_rule(ref)
        if rule is None or rule.id is None:
            await message.answer(t("rules.not_found", lang, ref=args[1]))
            return
        if action == "show":
            await answer_long(message, f"<b>#{rule.id}</b>\n<pre>"
                                       f"{escape(export_rules_toml([rule]))}</pre>")
            return
        blocked = action == "block"
        rule_id = rule.id
        await storage.write(lambda tx: tx.set_rule_blocked(rule_id, blocked))
        await message.answer(t("rules.blocked" if blocked else "rules.unblocked", lang,
                               name=rule.name))

    @router.message(F.document)
    async def rules_file(message: Message, bot: Bot, storage: Storage,
                         staff: StaffMember) -> None:
        lang = lang_of(message)
        document = message.document
        assert document is not None
        if not staff.is_admin:
            await message.answer(t("rules.admins_only", lang))
            return
        name = (document.file_name or "").lower()
        if not name.endswith(".toml") or (document.file_size or 0) > MAX_RULES_FILE:
            await message.answer(t("rules.not_toml", lang, limit=MAX_RULES_FILE // 1024))
            return
        buffer = io.BytesIO()
        await bot.download(document, destination=buffer)
        try:
            text = buffer.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            await message.answer(t("rules.not_toml", lang, limit=MAX_RULES_FILE // 1024))
            return
        try:
            created, updated = await import_rules(storage, text)
        except RuleFileError as exc:
            errors = "\n".join(f"• {line}" for line in exc.errors)
            await answer_long(message, t("rules.import_errors", lang, errors=errors))
            return
        log.info("rules imported from Telegram by %s: %d created, %d updated",
                 staff.staff_id or staff.user_id, created, updated)
        await message.answer(t("rules.imported", lang, created=created, updated=updated))

    @router.message(Command("test"))
    async def test(message: Message, command: CommandObject, config: Config,
                   senders: Mapping[str, Sender]) -> None:
        lang = lang_of(message)
        args = (command.args or "").split(maxsplit=2)
        if len(args) < 2 or args[0].lower() not in CHANNELS:
            await message.answer(t("test.usage", lang, channels=", ".join(CHANNELS)))
            return
        channel, address = args[0].lower(), args[1]
        provider, text = None, None
        if len(args) == 3:
            first, _, rest = args[2].partition(" ")
            if first in providers_of(config, channel):
                provider, text = first, rest.strip() or None
            else:
                text = args[2]
        reason = channel_unavailable(config, channel, [provider] if provider else [])
        sender = senders.get(channel)
        if reason or sender is None:
            await message.answer(t("test.unavailable", lang,
                                   reason=reason or f"{channel} is not running"))
            return
        try:
            outgoing = test_message(config, channel, address, provider, text)
        except LookupError as exc:
            await message.answer(t("test.bad_address", lang, reason=str(exc).strip("'\"")))
            return
        outgoing.language = lang
        answer = await send_with(sender, outgoing)
        await answer_long(message, t("test.sent" if answer.ok else "test.failed", lang,
                                     summary=answer.summary))

    @router.message(Command("inbox"))
    async def inbox(message: Message, storage: Storage, config: Config, clock: Clock,
                    staff: StaffMember) -> None:
        lang = lang_of(message)
        if staff.staff_id is None:
            await message.answer(t("inbox.no_staff", lang))
            return
        async with storage.reader() as tx:
            items = await tx.list_inbox(staff.staff_id, limit=LATEST)
        if not items:
            await message.answer(t("inbox.empty", lang))
            return
        lines = [t("inbox.header", lang)]
        for item in items:
            new = "🆕 " if item.read_at is None else ""
            subject = f"<b>{escape(item.subject)}</b>\n" if item.subject else ""
            lines.append(f"\n{new}{_local(item.created_at, config)}\n{subject}{item.text}")
        await answer_long(message, "\n".join(lines))
        unread = [item.id for item in items if item.read_at is None and item.id is not None]
        if unread:
            now = clock.now()
            await storage.write(lambda tx: tx.mark_inbox_read(unread, now))

    @router.message(Command("status"))
    async def status(message: Message, storage: Storage, senders: Mapping[str, Sender],
                     control: DispatchControl) -> None:
        lang = lang_of(message)
        async with storage.reader() as tx:
            counts = await tx.counts()
        lines = [t("status.header", lang), f"<b>{t('status.queue', lang)}</b>"]
        queue_lines = []
        for channel in sorted(counts):
            by_status = counts[channel]
            shown = [f"{s} {by_status[s]}" for s in STATUS_ORDER if by_status.get(s)]
            queue_lines.append(f"{escape(channel)}: {escape(', '.join(shown))}")
        lines += queue_lines or [t("status.queue_empty", lang)]
        lines.append(f"\n<b>{t('status.channels', lang)}</b>")
        last_errors = control.last_errors()
        if not senders:
            lines.append(t("status.no_channels", lang))
        for name, sender in senders.items():
            try:
                state = dict(sender.status())
            except Exception as exc:  # a status snapshot must not break /status
                state = {"error": str(exc)}
            if name in last_errors and "last_error" not in state:
                state["last_error"] = last_errors[name]
            shown = ", ".join(f"{k}: {_short(v)}" for k, v in state.items() if v not in
                              (None, "", {}, []))
            lines.append(f"{escape(name)}: {escape(shown or 'ok')}")
        await answer_long(message, "\n".join(lines))

    @router.message(Command("preview"))
    async def preview(message: Message, command: CommandObject, storage: Storage,
                      config: Config, clock: Clock) -> None:
        lang = lang_of(message)
        try:
            hours = float((command.args or "24").strip().removesuffix("h").removesuffix("ч"))
        except ValueError:
            hours = -1.0
        if not 0 < hours <= 24 * 366:
            await message.answer(t("preview.usage", lang))
            return
        shown = f"{hours:g}"
        items = await preview_rows(storage, config, hours=hours, clock=clock,
                                   limit=LIST_CAP + 1)
        if not items:
            await message.answer(t("preview.empty", lang, hours=shown))
            return
        lines = [t("preview.header", lang, hours=shown)]
        lines += [str(escape(preview_line(item))) for item in items[:LIST_CAP]]
        if len(items) > LIST_CAP:
            lines.append(t("preview.more", lang, shown=LIST_CAP))
        await answer_long(message, "\n".join(lines))

    return router


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def build_refusal_router() -> Router:
    """Non-staff who try a staff command get a polite refusal and nothing else."""
    router = Router(name="staff-refusal")

    @router.message(Command(*STAFF_COMMANDS))
    async def refuse(message: Message) -> None:
        await message.answer(t("staff.refused", lang_of(message)))

    return router
