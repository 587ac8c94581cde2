"""``vestnik journal`` and ``vestnik stoplist``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli_common import (
    EXIT_FAIL,
    EXIT_OK,
    BadArgument,
    UsageError,
    _print_json,
    opened,
)
from bot.core.config import Config
from storage.base import Storage
from storage.models import JOURNAL_STATUSES

# journal ------------------------------------------------------------------------------------------
TIME_FIELDS = ("created_at", "due_at", "sent_at", "failed_at")


def journal_header(tz_name: str) -> str:
    return (
        f"{'id':>6}  {'time (' + tz_name + ')':25}  {'status':9}  {'channel':8}  "
        f"{'address':28}  {'type':22}  note"
    )


def journal_line(row: Any, tz: Any) -> str:
    when = row.sent_at or row.failed_at or row.due_at or row.created_at
    stamp = when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if when else "-"
    note = row.error or row.reason or row.receipt or ""
    return (
        f"{row.id:>6}  {stamp:25}  {row.status:9}  {row.channel:8}  "
        f"{(row.address or row.recipient_id or '-')[:28]:28}  {row.event_type:22}  {note}"
    )


def local_times(data: dict[str, Any], tz: Any) -> dict[str, Any]:
    """RFC 3339 with the service time zone's offset, as people compare them."""
    from bot.core.timeutil import parse_rfc3339

    out = dict(data)
    for name in TIME_FIELDS:
        moment = parse_rfc3339(out.get(name))
        if moment is not None:
            out[name] = moment.astimezone(tz).isoformat(timespec="seconds")
    return out


async def cmd_journal(config: Config, args: argparse.Namespace) -> int:
    from bot.services import journal as journal_service

    async with opened(config) as storage:
        if args.action in ("show", "resend"):
            if args.id is None or not str(args.id).isdigit():
                raise UsageError(f"vestnik journal {args.action} ID")
            row_id = int(args.id)
            if args.action == "show":
                row = await journal_service.get_row(storage, row_id)
                if row is None:
                    print(f"journal row {row_id} not found", file=sys.stderr)
                    return EXIT_FAIL
                data = local_times(row.public(), config.service.tz)
                if args.json:
                    _print_json(data)
                else:
                    width = max(len(k) for k in data)
                    for key, value in data.items():
                        suffix = (
                            f" ({config.service.timezone})"
                            if (key in TIME_FIELDS and value)
                            else ""
                        )
                        print(f"{key:{width}}  {'' if value is None else value}{suffix}")
                return EXIT_OK
            return await cli_resend(storage, config, row_id, force=args.now)
        if args.action is not None:
            raise UsageError(
                "vestnik journal [--status S] [--limit N] [--json] | show ID | resend ID"
            )
        if args.status and args.status not in JOURNAL_STATUSES:
            raise BadArgument(f"--status must be one of {', '.join(JOURNAL_STATUSES)}")
        rows = await journal_service.latest_rows(storage, status=args.status, limit=args.limit)
    tz = config.service.tz
    if args.json:
        _print_json([local_times(row.public(), tz) for row in rows])
    else:
        print(journal_header(config.service.timezone))
        for row in rows:
            print(journal_line(row, tz))
    return EXIT_OK


async def cli_resend(storage: Storage, config: Config, row_id: int, *, force: bool) -> int:
    """``journal resend ID [--now]``: a scheduled row is refused (with its due time) unless
    ``--now``."""
    from bot.core.ops_texts import say
    from bot.core.timeutil import SystemClock
    from bot.services.resend import due_text, resend_row

    lang = config.service.language
    outcome = await resend_row(storage, row_id, SystemClock().now(), force=force)
    if outcome.queued:
        print(say("resend.done", lang, id=row_id))
        return EXIT_OK
    due = due_text(outcome.row, config.service.tz) if outcome.row else ""
    print(say(f"resend.{outcome.status}", lang, id=row_id, due=due, flag="--now"), file=sys.stderr)
    return EXIT_FAIL


# stop list ------------------------------------------------------------------------------------------
async def check_stop_scope(storage: Storage, event_type: str | None, channel: str | None) -> None:
    """A typo'd channel or type would make an entry that blocks nothing: refuse it."""
    from bot.core.catalog import CATALOG
    from bot.core.channels import CHANNELS
    from bot.pipeline.typos import did_you_mean

    if channel and channel != "*" and channel not in CHANNELS:
        close = did_you_mean(channel, CHANNELS)
        raise BadArgument(
            f"--channel {channel!r} is not a channel: use one of "
            f"{', '.join(CHANNELS)} or *" + (f" (did you mean {close!r}?)" if close else "")
        )
    if not event_type or event_type == "*" or event_type in CATALOG:
        return
    async with storage.reader() as tx:
        known = await tx.event_type_seen(event_type) or any(
            rule.event == event_type for rule in await tx.list_rules()
        )
    if not known:
        close = did_you_mean(event_type, CATALOG)
        raise BadArgument(
            f"--type {event_type!r} is not a catalog type, no rule reads it and "
            "it was never posted: the entry would block nothing"
            + (f" (did you mean {close!r}?)" if close else "")
            + "; see `vestnik templates` for the types"
        )


async def cmd_stoplist(config: Config, args: argparse.Namespace) -> int:
    from bot.core.texts import t
    from bot.core.timeutil import SystemClock
    from bot.services import stoplist as stop_service
    from bot.services.who import WhoError

    async with opened(config) as storage:
        if args.action == "add":
            if not args.who:
                raise UsageError("vestnik stoplist add WHO [--type T] [--channel C] [--reason R]")
            await check_stop_scope(storage, args.type, args.channel)
            try:
                entry = stop_service.new_entry(
                    args.who,
                    config.service.default_region,
                    event_type=args.type or "*",
                    channel=args.channel or "*",
                    reason=args.reason or "",
                    author=args.author,
                    now=SystemClock().now(),
                )
            except WhoError as exc:
                raise BadArgument(t(f"who.bad.{exc.problem}", "en", value=exc.value)) from None
            except stop_service.StopListError as exc:
                raise BadArgument(
                    f"--{'type' if exc.problem == 'bad_type' else 'channel'}: "
                    f"{exc.value!r} is not valid"
                ) from None
            saved = await stop_service.add(storage, entry)
            await storage.notify_new_rows()
            _print_json(saved.public()) if args.json else print(
                f"stop list entry {saved.id}: {saved.who_kind} {saved.who}, type "
                f"{saved.event_type}, channel {saved.channel}"
            )
            return EXIT_OK
        if args.action == "remove":
            if not args.who or not args.who.isdigit():
                raise UsageError("vestnik stoplist remove ENTRY_ID")
            entry_id = int(args.who)
            if not await stop_service.remove(storage, entry_id):
                print(f"stop list entry {entry_id} not found", file=sys.stderr)
                return EXIT_FAIL
            print(f"stop list entry {entry_id} removed")
            return EXIT_OK
        entries = await stop_service.listing(storage, args.limit)
    if args.json:
        _print_json([e.public() for e in entries])
    else:
        for e in entries:
            print(
                f"{e.id:>5}  {e.who_kind:8}  {e.who:24}  {e.event_type:22}  {e.channel:8}  "
                f"{e.reason}"
            )
    return EXIT_OK
