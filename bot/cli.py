"""The ``vestnik`` command line (the README). Exit status: 0 success, 2 bad usage or
configuration, 1 anything else. Listing commands take ``--json`` and print the column names of docs/rules.md
column names."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.core.channels import SENDABLE_CHANNELS
from bot.core.config import Config, ConfigError, load_config
from storage.base import (
    DatabaseInUse,
    JournalFilter,
    SchemaTooNew,
    Storage,
    StorageUnavailable,
)
from storage.models import JOURNAL_STATUSES
from storage.open import open_storage

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: exit status 2."""


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@asynccontextmanager
async def opened(config: Config) -> AsyncIterator[Storage]:
    storage = open_storage(config.service.database)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


# serve / check-config / migrate ---------------------------------------------------------------
def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from bot.app import init_app

    from bot.core.redact import RedactingFormatter, mask_url

    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=config.service.log_level.upper(), handlers=[handler])
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if config.service.log_level.upper() != "DEBUG":  # a line per job run is noise
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    problems = channel_problems(config)
    if problems:
        _print_problems(problems)
        return EXIT_USAGE
    app = init_app(config)
    webhook = config.webhook
    print(f"vestnik: webhook on http://{webhook.listen}{webhook.path}, "
          f"database {mask_url(config.service.database)}", flush=True)
    from bot.serving import run

    run(app, webhook, shutdown_timeout=max(5.0, config.service.lease_seconds / 4))
    return EXIT_OK


def channel_problems(config: Config) -> list[tuple[str, str]]:
    """What the config model cannot check by itself: portal credentials of each kind and the
    ``http`` portal's request description."""
    if not config.sms.portals:
        return []
    from senders.sms import portal_problems

    return portal_problems(config.sms)


def _print_problems(problems: list[tuple[str, str]]) -> None:
    print("configuration problems:", file=sys.stderr)
    for key, problem in problems:
        print(f"  {key}: {problem}", file=sys.stderr)


def cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    from bot.core.channels import SENDABLE_CHANNELS, channel_unavailable

    problems = channel_problems(config)
    if problems:
        _print_problems(problems)
        return EXIT_USAGE
    print("config OK")
    for channel in SENDABLE_CHANNELS:
        reason = channel_unavailable(config, channel)
        print(f"  {channel:9} {'on' if reason is None else 'off: ' + reason}")
    auth = "tokens" if config.webhook.tokens else ""
    auth += (" + " if auth else "") + "signature" if config.webhook.secret else ""
    print(f"  webhook   {config.webhook.listen}{config.webhook.path} auth: {auth or 'none'}")
    return EXIT_OK


async def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as storage:
        print(f"database schema is up to date (version {await storage.schema_version()})")
    return EXIT_OK


# rules ------------------------------------------------------------------------------------------
async def cmd_rules(config: Config, args: argparse.Namespace) -> int:
    from bot.pipeline.rules import RuleFileError, export_rules_toml, import_rules

    if args.action == "import":
        if not args.file:
            raise UsageError("vestnik rules import FILE")
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc}") from None
        async with opened(config) as storage:
            try:
                created, updated = await import_rules(storage, text)
                await storage.notify_new_rows()  # a running serve re-reads them at once
            except RuleFileError as exc:
                print(f"{args.file}: nothing imported, {len(exc.errors)} problem(s):",
                      file=sys.stderr)
                for error in exc.errors:
                    print(f"  {error}", file=sys.stderr)
                return EXIT_FAIL
        print(f"rules imported: {created} new, {updated} updated")
        return EXIT_OK
    async with opened(config) as storage:
        async with storage.reader() as tx:
            rules = await tx.list_rules()
    if args.json or args.action == "list":
        if args.json:
            _print_json([{"id": r.id, **r.definition, "blocked": r.blocked} for r in rules])
        else:
            for r in rules:
                state = "blocked" if r.blocked else "active"
                print(f"{r.id:>4}  {state:7}  {r.event:24}  {r.name}")
        return EXIT_OK
    sys.stdout.write(export_rules_toml(rules))
    return EXIT_OK


# journal ------------------------------------------------------------------------------------------
def journal_line(row: Any) -> str:
    when = (row.sent_at or row.failed_at or row.due_at or row.created_at)
    stamp = when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"
    note = row.error or row.reason or ""
    return (f"{row.id:>6}  {stamp}  {row.status:9}  {row.channel:8}  "
            f"{(row.address or row.recipient_id or '-')[:28]:28}  {row.event_type:22}  {note}")


async def cmd_journal(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as storage:
        if args.action in ("show", "resend"):
            if args.id is None or not str(args.id).isdigit():
                raise UsageError(f"vestnik journal {args.action} ID")
            row_id = int(args.id)
            if args.action == "show":
                async with storage.reader() as tx:
                    row = await tx.get_journal(row_id)
                if row is None:
                    print(f"journal row {row_id} not found", file=sys.stderr)
                    return EXIT_FAIL
                data = row.public()
                if args.json:
                    _print_json(data)
                else:
                    width = max(len(k) for k in data)
                    for key, value in data.items():
                        print(f"{key:{width}}  {'' if value is None else value}")
                return EXIT_OK
            return await cli_resend(storage, config, row_id, force=args.now)
        if args.action is not None:
            raise UsageError("vestnik journal [--status S] [--limit N] [--json] | show ID | "
                             "resend ID")
        if args.status and args.status not in JOURNAL_STATUSES:
            raise UsageError(f"--status must be one of {', '.join(JOURNAL_STATUSES)}")
        async with storage.reader() as tx:
            rows = await tx.list_journal(JournalFilter(status=args.status, limit=args.limit))
    if args.json:
        _print_json([row.public() for row in rows])
    else:
        for row in rows:
            print(journal_line(row))
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
    print(say(f"resend.{outcome.status}", lang, id=row_id, due=due, flag="--now"),
          file=sys.stderr)
    return EXIT_FAIL


# stop list ------------------------------------------------------------------------------------------
def parse_who(raw: str, region: str) -> tuple[str, str]:
    """``phone:``, ``email:``, ``customer:``, ``chat:`` prefixes, or guessed from the value."""
    from bot.core.phones import normalize_phone

    kind, sep, value = raw.partition(":")
    if sep and kind in ("phone", "email", "customer", "chat"):
        raw_value = value
    else:
        kind, raw_value = "", raw
    if kind in ("", "phone"):
        phone = normalize_phone(raw_value, region)
        if phone:
            return "phone", phone
        if kind == "phone":
            raise UsageError(f"{raw_value!r} is not a valid phone number")
    if kind == "email" or (not kind and "@" in raw_value):
        return "email", raw_value.strip().lower()
    if kind == "chat":
        if not raw_value.lstrip("-").isdigit():
            raise UsageError(f"chat:{raw_value} is not a Telegram chat id")
        return "chat", raw_value
    return "customer", raw_value


async def cmd_stoplist(config: Config, args: argparse.Namespace) -> int:
    from storage.models import StopEntry

    async with opened(config) as storage:
        if args.action == "add":
            if not args.who:
                raise UsageError("vestnik stoplist add WHO [--type T] [--channel C] "
                                 "[--reason R]")
            kind, who = parse_who(args.who, config.service.default_region)
            entry = StopEntry(who=who, who_kind=kind, event_type=args.type or "*",
                              channel=args.channel or "*", reason=args.reason or "",
                              author=args.author)
            saved = await storage.write(lambda tx: tx.add_stop(entry))
            await storage.notify_new_rows()
            _print_json(saved.public()) if args.json else print(
                f"stop list entry {saved.id}: {kind} {who}, type {saved.event_type}, "
                f"channel {saved.channel}")
            return EXIT_OK
        if args.action == "remove":
            if not args.who or not args.who.isdigit():
                raise UsageError("vestnik stoplist remove ENTRY_ID")
            entry_id = int(args.who)
            removed = await storage.write(lambda tx: tx.remove_stop(entry_id))
            await storage.notify_new_rows()
            if not removed:
                print(f"stop list entry {entry_id} not found", file=sys.stderr)
                return EXIT_FAIL
            print(f"stop list entry {entry_id} removed")
            return EXIT_OK
        async with storage.reader() as tx:
            entries = await tx.list_stops(limit=args.limit)
    if args.json:
        _print_json([e.public() for e in entries])
    else:
        for e in entries:
            print(f"{e.id:>5}  {e.who_kind:8}  {e.who:24}  {e.event_type:22}  {e.channel:8}  "
                  f"{e.reason}")
    return EXIT_OK


# customers import -------------------------------------------------------------------------------------
async def cmd_customers(config: Config, args: argparse.Namespace) -> int:
    from bot.pipeline.directory_import import import_customers

    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"file not found: {path}")
    from bot.cli_birthdays import offline_intake

    async with opened(config) as storage:
        intake = offline_intake(config, storage)  # customers born today are greeted now
        report = await import_customers(storage, path, config.service.default_region,
                                        progress=sys.stderr if sys.stderr.isatty() else None,
                                        on_batch=intake.greet_born_today)
        await storage.notify_new_rows()
    print(f"customers imported: {report.imported}, rejected: {len(report.rejected)}")
    if report.planned:
        print(f"birthday greetings planned: {report.planned}")
    for line, reason in report.rejected[:50]:
        print(f"  line {line}: {reason}")
    if len(report.rejected) > 50:
        print(f"  ... and {len(report.rejected) - 50} more")
    return EXIT_OK if report.imported or not report.rejected else EXIT_FAIL


async def cmd_birthdays(config: Config, args: argparse.Namespace) -> int:
    from bot.cli_birthdays import cmd_birthdays as run

    async with opened(config) as storage:
        return await run(config, args, storage)


# templates ---------------------------------------------------------------------------------------------
def cmd_templates(config: Config, args: argparse.Namespace) -> int:
    from bot.core.catalog import CATALOG
    from bot.pipeline.templates import CHANNEL_BODY_KEY, TEMPLATE_VARIABLES, load_default_templates

    defaults = load_default_templates()
    if not args.type:
        for name, entry in CATALOG.items():
            print(f"{name:24} {entry.kind:9} {entry.title_ru} / {entry.title_en}")
        print("\nvestnik templates TYPE [--channel email|sms|telegram] shows the texts")
        return EXIT_OK
    if args.type not in defaults:
        raise UsageError(f"no default templates for {args.type!r}; see `vestnik templates`")
    channels = [args.channel] if args.channel else ["email", "telegram", "sms"]
    for language in ("ru", "en"):
        entry = defaults[args.type][language]
        for channel in channels:
            key = CHANNEL_BODY_KEY.get(channel)
            if key is None:
                raise UsageError("--channel must be email, sms, modem, telegram or internal")
            print(f"# {args.type} / {channel} / {language}")
            if channel == "email":
                print(f'subject = "{entry["subject"]}"')
            print(f'body = """\n{entry[key]}\n"""\n')
    print("# variables")
    for name, meaning in TEMPLATE_VARIABLES:
        print(f"#   {name:70} {meaning}")
    return EXIT_OK


# send-test ------------------------------------------------------------------------------------------------
async def cmd_send_test(config: Config, args: argparse.Namespace) -> int:
    from bot.services.send_test import send_test

    try:
        answer = await send_test(config, args.channel, args.address, provider=args.provider,
                                 text=args.text)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    print(answer.summary)
    return EXIT_OK if answer.ok else EXIT_FAIL


# preview ------------------------------------------------------------------------------------------------
async def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    from bot.core.timeutil import SystemClock
    from bot.pipeline.preview import preview_line, preview_rows

    if args.hours <= 0:
        raise UsageError("--hours must be a positive number of hours")
    async with opened(config) as storage:
        items = await preview_rows(storage, config, hours=args.hours, clock=SystemClock(),
                                  limit=args.limit)
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(preview_line(item))
        print(f"{len(items)} notification(s) in the next {args.hours:g} h")
    return EXIT_OK


# web-login ----------------------------------------------------------------------------------------------
async def cmd_web_login(config: Config, args: argparse.Namespace) -> int:
    """Print a one-time login link to the web pages (for the operator, or a staff member)."""
    from bot.core.timeutil import SystemClock
    from bot.services.web_login import OPERATOR, WebIdentity, make_login_link

    if not config.web.enabled:
        print("the web pages are off (web.enabled = false)", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.minutes <= 24 * 60:
        raise UsageError("--minutes must be between 1 and 1440")
    async with opened(config) as storage:
        identity = WebIdentity(OPERATOR)
        if args.staff:
            async with storage.reader() as tx:
                person = await tx.get_person("staff", args.staff)
            if person is None:
                print(f"no staff member with id {args.staff!r} in the directory (the ERP "
                      "posts staff with their events or staff_updated)", file=sys.stderr)
                return EXIT_FAIL
            identity = WebIdentity("staff", staff_id=args.staff)
        url = await make_login_link(storage, config, identity, SystemClock().now(),
                                    args.minutes)
    print(url)
    print(f"the link opens one session and is valid for {args.minutes:g} minutes",
          file=sys.stderr)
    return EXIT_OK


# schema / validate / emulate: the ERP kit ----------------------------------------------------------
def cmd_schema(config: Config, args: argparse.Namespace) -> int:
    if args.openapi:
        from bot.http.openapi import openapi_document

        _print_json(openapi_document(config))
    else:
        from bot.pipeline.event_schema import event_schema

        _print_json(event_schema())
    return EXIT_OK


def cmd_validate(config: Config, args: argparse.Namespace) -> int:
    """Exit 0 when every body of every file is valid, 2 otherwise."""
    from bot.pipeline.payload_check import check_file, problem_line, summary_line

    lang = config.service.language
    reports = [report for name in args.files
               for report in check_file(Path(name), config.webhook.max_batch, lang)]
    if args.json:
        _print_json([report.public() for report in reports])
    else:
        for report in reports:
            for problem in report.problems:
                print(problem_line(report.where, problem))
            if not report.problems:
                print(summary_line(report, lang))
    return EXIT_OK if all(not r.problems for r in reports) else EXIT_USAGE


async def cmd_emulate(config: Config, args: argparse.Namespace) -> int:
    from bot.emulate.command import problem, run_emulate

    wrong = problem(config, args)
    if wrong is not None:
        raise UsageError(wrong)
    return await run_emulate(config, args)


# the parser -----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config file (default ./config.toml when it exists)")
    parser = argparse.ArgumentParser(prog="vestnik", parents=[common],
                                     description="ERP events to notifications")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", parents=[common], help="run the webhook, bot and dispatcher")
    sub.add_parser("check-config", parents=[common], help="validate the configuration")
    sub.add_parser("migrate", parents=[common], help="create or upgrade the database schema")

    rules = sub.add_parser("rules", parents=[common], help="import or export rules")
    rules.add_argument("action", choices=["import", "export", "list"])
    rules.add_argument("file", nargs="?")
    rules.add_argument("--json", action="store_true")

    journal = sub.add_parser("journal", parents=[common], help="the journal of notifications")
    journal.add_argument("action", nargs="?", choices=["show", "resend"])
    journal.add_argument("id", nargs="?")
    journal.add_argument("--status")
    journal.add_argument("--limit", type=int, default=50)
    journal.add_argument("--json", action="store_true")
    journal.add_argument("--now", action="store_true",
                         help="resend: also a scheduled row, at once (else refused)")

    stop = sub.add_parser("stoplist", parents=[common], help="the stop list")
    stop.add_argument("action", choices=["list", "add", "remove"])
    stop.add_argument("who", nargs="?", help="phone, e-mail, customer id, chat:<id>; or entry id")
    stop.add_argument("--type", help="event type (default *)")
    stop.add_argument("--channel", help="channel (default *)")
    stop.add_argument("--reason")
    stop.add_argument("--author", default="cli")
    stop.add_argument("--limit", type=int, default=200)
    stop.add_argument("--json", action="store_true")

    customers = sub.add_parser("customers", parents=[common], help="import the customer list")
    customers.add_argument("action", choices=["import"])
    customers.add_argument("file")

    birthdays = sub.add_parser("birthdays", parents=[common],
                               help="run the birthday scan by hand and say what it planned")
    birthdays.add_argument("action", choices=["run"])
    birthdays.add_argument("--date", help="the day, YYYY-MM-DD (default today)")

    templates = sub.add_parser("templates", parents=[common],
                               help="default templates and their variables")
    templates.add_argument("type", nargs="?")
    templates.add_argument("--channel")

    send = sub.add_parser("send-test", parents=[common], help="send one test message")
    send.add_argument("channel", choices=SENDABLE_CHANNELS)
    send.add_argument("address")
    send.add_argument("--provider")
    send.add_argument("--text")

    preview = sub.add_parser("preview", parents=[common], help="what goes out in the next hours")
    preview.add_argument("--hours", type=float, default=24)
    preview.add_argument("--limit", type=int, default=1000)
    preview.add_argument("--json", action="store_true")

    web_login = sub.add_parser("web-login", parents=[common],
                               help="print a one-time login link to the web pages")
    web_login.add_argument("--staff", help="the ERP staff id the link is for (default: the "
                                           "operator)")
    web_login.add_argument("--minutes", type=float, default=10)
    schema = sub.add_parser("schema", parents=[common],
                            help="print the event JSON Schema (or --openapi)")
    schema.add_argument("--openapi", action="store_true", help="the OpenAPI 3.1 document")

    validate = sub.add_parser("validate", parents=[common],
                              help="check event files offline, as the webhook would")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--json", action="store_true")

    emulate = sub.add_parser("emulate", parents=[common],
                             help="post realistic event streams to a running service")
    emulate.add_argument("--url", help="webhook URL (default from the config's webhook)")
    auth = emulate.add_mutually_exclusive_group()
    auth.add_argument("--token", help="bearer token (default: the config's)")
    auth.add_argument("--secret", help="whsec_ secret to sign with (default: the config's)")
    emulate.add_argument("--type", action="append", metavar="T",
                         help="only events of this type (repeatable)")
    emulate.add_argument("--count", type=int, default=100, help="events in all")
    emulate.add_argument("--rate", type=float, default=50, help="events per second (0: no limit)")
    emulate.add_argument("--batch", type=int, default=1, help="events per request")
    emulate.add_argument("--concurrency", type=int, default=16,
                         help="requests in flight at once (stories keep their order)")
    emulate.add_argument("--seed", type=int, help="repeatable names and times (ids stay fresh)")
    emulate.add_argument("--json", action="store_true")
    return parser


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], Any]] = {
    "serve": cmd_serve, "check-config": cmd_check_config, "migrate": cmd_migrate,
    "rules": cmd_rules, "journal": cmd_journal, "stoplist": cmd_stoplist,
    "customers": cmd_customers, "birthdays": cmd_birthdays, "templates": cmd_templates,
    "send-test": cmd_send_test, "preview": cmd_preview, "web-login": cmd_web_login,
    "schema": cmd_schema, "validate": cmd_validate, "emulate": cmd_emulate,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("configuration problems:", file=sys.stderr)
        for key, message in exc.problems:
            print(f"  {key}: {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = COMMANDS[args.command](config, args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result)
    except UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SchemaTooNew as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseInUse as exc:  # a second `vestnik serve` on one SQLite file
        from bot.core.ops_texts import say

        print(say("serve.database_in_use", config.service.language, path=exc.path,
                  pid=exc.pid or "?"), file=sys.stderr)
        return EXIT_FAIL
    except StorageUnavailable as exc:
        from bot.core.redact import redact_urls

        print(f"error: database unavailable: {redact_urls(str(exc))}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
