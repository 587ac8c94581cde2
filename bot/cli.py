"""The ``vestnik`` command line (the README). Exit status: 0 success, 2 bad usage or
configuration, 1 anything else. Listing commands take ``--json`` and print the column names of docs/rules.md
column names."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.cli_common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    BadArgument,
    CommandError,
    UsageError,
    _print_json,
    opened,
)
from bot.conversations_cli import add_parser as add_conversations_parser
from bot.conversations_cli import cmd_conversations
from bot.core.channels import SENDABLE_CHANNELS
from bot.core.config import Config, ConfigError, load_config
from storage.base import DatabaseInUse, SchemaTooNew, Storage, StorageUnavailable
from storage.models import JOURNAL_STATUSES


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
    webhook = config.webhook
    check_port_free(webhook.host, webhook.port, webhook.listen)  # busy: said, nothing started
    app = init_app(config)
    print(
        f"vestnik: webhook on http://{webhook.listen}{webhook.path}, "
        f"database {mask_url(config.service.database)}",
        flush=True,
    )
    from bot.serving import run

    try:
        run(app, webhook, shutdown_timeout=max(5.0, config.service.lease_seconds / 4))
    except OSError as exc:
        import errno

        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        # taken between the check and the bind
        raise port_problem(exc, webhook.host, webhook.port, webhook.listen) from None
    return EXIT_OK


def check_port_free(host: str, port: int, listen: str) -> None:
    """Try the port before anything starts, so a busy one is one clear line, not a
    traceback after "listening"."""
    import socket

    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
    except OSError as exc:
        raise port_problem(exc, host, port, listen) from None


def port_problem(exc: OSError, host: str, port: int, listen: str) -> BadArgument:
    import errno

    if exc.errno == errno.EADDRINUSE:
        return BadArgument(
            f"port {port} on {host} is busy: another program (or another vestnik serve) "
            f"listens there. Stop it, or change webhook.listen (now {listen!r}) in the config"
        )
    return BadArgument(f"cannot listen on {listen} (webhook.listen): {exc.strerror or exc}")


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


def cmd_check_config(path: str | None) -> int:
    """Every problem in one run (not the first one found), then the warnings."""
    from bot.config_check import check_config
    from bot.core.channels import SENDABLE_CHANNELS, channel_unavailable

    report = check_config(path)
    if report.errors:
        _print_problems(report.errors)
    if report.warnings:
        print("configuration warnings:", file=sys.stderr)
        for key, warning in report.warnings:
            print(f"  {key}: {warning}", file=sys.stderr)
    config = report.config
    if report.errors or config is None:
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
    async with opened(config, create=True) as storage:
        print(f"database schema is up to date (version {await storage.schema_version()})")
    return EXIT_OK


# rules ------------------------------------------------------------------------------------------
async def rule_warnings(config: Config, text: str) -> list[str]:
    """Rules for a type that is not in the catalog and was never posted: likely a typo."""
    from bot.pipeline.rules import parse_rules_toml
    from bot.pipeline.typos import rule_event_warning

    out = []
    async with opened(config) as storage:
        async with storage.reader() as tx:
            for rule in parse_rules_toml(text):
                seen = await tx.event_type_seen(rule.event)
                warning = rule_event_warning(rule.name, rule.event, seen, config.service.language)
                if warning is not None:
                    out.append(warning)
    return out


async def cmd_rules(config: Config, args: argparse.Namespace) -> int:
    from bot.core.timeutil import SystemClock
    from bot.pipeline.rules import RuleFileError, export_rules_toml
    from bot.services import rules_admin

    if args.action == "import":
        if not args.file:
            raise UsageError("vestnik rules import FILE")
        try:
            text = Path(args.file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise BadArgument(f"cannot read {args.file}: {exc}") from None
        async with opened(config) as storage:
            try:
                created, updated = await rules_admin.import_text(
                    storage, text, author=args.author, now=SystemClock().now()
                )
            except RuleFileError as exc:
                print(
                    f"{args.file}: nothing imported, {len(exc.errors)} problem(s):", file=sys.stderr
                )
                for error in exc.errors:
                    print(f"  {error}", file=sys.stderr)
                return EXIT_FAIL
        print(f"rules imported: {created} new, {updated} updated")
        for warning in await rule_warnings(config, text):
            print(f"warning: {warning}", file=sys.stderr)
        return EXIT_OK
    async with opened(config) as storage:
        rules = await rules_admin.listing(storage)
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


async def cmd_birthdays(config: Config, args: argparse.Namespace) -> int:
    from bot.cli_birthdays import cmd_birthdays as run

    async with opened(config) as storage:
        return await run(config, args, storage)


# templates ---------------------------------------------------------------------------------------------
def cmd_templates(config: Config, args: argparse.Namespace) -> int:
    from bot.core.catalog import CATALOG
    from bot.services import templates_help

    if not args.type:
        for name, entry in CATALOG.items():
            print(f"{name:24} {entry.kind:9} {entry.title_ru} / {entry.title_en}")
        print("\nvestnik templates TYPE [--channel email|sms|telegram] shows the texts")
        return EXIT_OK
    if not templates_help.has_defaults(args.type):
        raise BadArgument(f"no default templates for {args.type!r}; see `vestnik templates`")
    channels = [args.channel] if args.channel else list(templates_help.TEXT_CHANNELS)
    for language in ("ru", "en"):
        for channel in channels:
            try:
                subject, body = templates_help.default_text(args.type, channel, language)
            except LookupError:
                raise BadArgument(
                    "--channel must be email, sms, modem, telegram or internal"
                ) from None
            print(f"# {args.type} / {channel} / {language}")
            if subject:
                print(f'subject = "{subject}"')
            print(f'body = """\n{body}\n"""\n')
    print("# variables (examples from a sample event)")
    for name, value in templates_help.variable_examples(args.type):
        print(f"#   {name:40} {value}")
    for name, meaning in templates_help.variable_notes():
        print(f"#   {name:70} {meaning}")
    return EXIT_OK


# send-test ------------------------------------------------------------------------------------------------
async def cmd_send_test(config: Config, args: argparse.Namespace) -> int:
    from bot.services.send_test import send_test

    try:
        answer = await send_test(
            config, args.channel, args.address, provider=args.provider, text=args.text
        )
    except LookupError as exc:
        raise BadArgument(str(exc)) from None
    print(answer.summary)
    return EXIT_OK if answer.ok else EXIT_FAIL


async def cmd_receipt_urls(config: Config, args: argparse.Namespace) -> int:
    """The callback address of each portal: the secret in it is shown here and nowhere else."""
    from bot.services.receipts import receipt_addresses

    async with opened(config) as storage:
        addresses = await receipt_addresses(storage, config)
    if not addresses:
        print(
            "no [[sms.portals]] entry posts status callbacks (sms.ru, smsc.ru, SMS Aero, "
            "Devino do); the others are polled",
            file=sys.stderr,
        )
        return EXIT_FAIL
    for name, kind, url in addresses:
        print(f"{name} ({kind}): {url}")
    return EXIT_OK


# preview ------------------------------------------------------------------------------------------------
async def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    from bot.core.timeutil import SystemClock
    from bot.pipeline.preview import preview_line, preview_rows

    if args.hours <= 0:
        raise BadArgument("--hours must be a positive number of hours")
    async with opened(config) as storage:
        items = await preview_rows(
            storage, config, hours=args.hours, clock=SystemClock(), limit=args.limit
        )
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
                print(
                    f"no staff member with id {args.staff!r} in the directory (the ERP "
                    "posts staff with their events or staff_updated)",
                    file=sys.stderr,
                )
                return EXIT_FAIL
            identity = WebIdentity("staff", staff_id=args.staff)
        url = await make_login_link(storage, config, identity, SystemClock().now(), args.minutes)
    print(url)
    print(f"the link opens one session and is valid for {args.minutes:g} minutes", file=sys.stderr)
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
    reports = [
        report
        for name in args.files
        for report in check_file(Path(name), config.webhook.max_batch, lang)
    ]
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
    parser = argparse.ArgumentParser(
        prog="vestnik", parents=[common], description="ERP events to notifications"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", parents=[common], help="run the webhook, bot and dispatcher")
    sub.add_parser("check-config", parents=[common], help="validate the configuration")
    sub.add_parser("migrate", parents=[common], help="create or upgrade the database schema")

    rules = sub.add_parser("rules", parents=[common], help="import or export rules")
    rules.add_argument("action", choices=["import", "export", "list"])
    rules.add_argument("file", nargs="?")
    rules.add_argument("--json", action="store_true")
    rules.add_argument("--author", default="cli", help="recorded with the change (default cli)")

    journal = sub.add_parser("journal", parents=[common], help="the journal of notifications")
    journal.add_argument("action", nargs="?", choices=["show", "resend"])
    journal.add_argument("id", nargs="?")
    journal.add_argument("--status")
    journal.add_argument("--limit", type=int, default=50)
    journal.add_argument("--json", action="store_true")
    journal.add_argument(
        "--now", action="store_true", help="resend: also a scheduled row, at once (else refused)"
    )

    stop = sub.add_parser("stoplist", parents=[common], help="the stop list")
    stop.add_argument("action", choices=["list", "add", "remove"])
    stop.add_argument("who", nargs="?", help="phone, e-mail, customer id, chat:<id>; or entry id")
    stop.add_argument("--type", help="event type (default *)")
    stop.add_argument("--channel", help="channel (default *)")
    stop.add_argument("--reason")
    stop.add_argument("--author", default="cli")
    stop.add_argument("--limit", type=int, default=200)
    stop.add_argument("--json", action="store_true")

    customers = sub.add_parser("customers", parents=[common], help="import or list the customers")
    customers.add_argument("action", choices=["import", "list"])
    customers.add_argument("file", nargs="?")
    customers.add_argument("--encoding", help="force the file's encoding (default: detected)")
    customers.add_argument("--search", help="list: id, name, phone, e-mail or group contains")
    customers.add_argument("--limit", type=int, default=1000)
    customers.add_argument("--json", action="store_true")

    birthdays = sub.add_parser(
        "birthdays", parents=[common], help="run the birthday scan by hand and say what it planned"
    )
    birthdays.add_argument("action", choices=["run"])
    birthdays.add_argument("--date", help="the day, YYYY-MM-DD (default today)")

    templates = sub.add_parser(
        "templates", parents=[common], help="default templates and their variables"
    )
    templates.add_argument("type", nargs="?")
    templates.add_argument("--channel")

    send = sub.add_parser("send-test", parents=[common], help="send one test message")
    send.add_argument("channel", choices=SENDABLE_CHANNELS)
    send.add_argument("address")
    send.add_argument("--provider")
    send.add_argument("--text")

    sub.add_parser(
        "receipt-urls",
        parents=[common],
        help="the delivery-callback address to set in each SMS portal",
    )

    preview = sub.add_parser("preview", parents=[common], help="what goes out in the next hours")
    preview.add_argument("--hours", type=float, default=24)
    preview.add_argument("--limit", type=int, default=1000)
    preview.add_argument("--json", action="store_true")

    web_login = sub.add_parser(
        "web-login", parents=[common], help="print a one-time login link to the web pages"
    )
    web_login.add_argument(
        "--staff", help="the ERP staff id the link is for (default: the operator)"
    )
    web_login.add_argument("--minutes", type=float, default=10)
    schema = sub.add_parser(
        "schema", parents=[common], help="print the event JSON Schema (or --openapi)"
    )
    schema.add_argument("--openapi", action="store_true", help="the OpenAPI 3.1 document")

    validate = sub.add_parser(
        "validate", parents=[common], help="check event files offline, as the webhook would"
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--json", action="store_true")

    emulate = sub.add_parser(
        "emulate", parents=[common], help="post realistic event streams to a running service"
    )
    emulate.add_argument("--url", help="webhook URL (default from the config's webhook)")
    auth = emulate.add_mutually_exclusive_group()
    auth.add_argument("--token", help="bearer token (default: the config's)")
    auth.add_argument("--secret", help="whsec_ secret to sign with (default: the config's)")
    emulate.add_argument(
        "--type", action="append", metavar="T", help="only events of this type (repeatable)"
    )
    emulate.add_argument("--count", type=int, default=100, help="events in all")
    emulate.add_argument("--rate", type=float, default=50, help="events per second (0: no limit)")
    emulate.add_argument("--batch", type=int, default=1, help="events per request")
    emulate.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="requests in flight at once (stories keep their order)",
    )
    emulate.add_argument("--seed", type=int, help="repeatable names and times (ids stay fresh)")
    emulate.add_argument("--json", action="store_true")
    add_conversations_parser(sub, common)
    return parser


def cmd_customers(config: Config, args: argparse.Namespace) -> Any:
    from bot.cli_directory import cmd_customers as run

    return run(config, args)


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], Any]] = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "rules": cmd_rules,
    "journal": cmd_journal,
    "stoplist": cmd_stoplist,
    "customers": cmd_customers,
    "birthdays": cmd_birthdays,
    "templates": cmd_templates,
    "send-test": cmd_send_test,
    "preview": cmd_preview,
    "schema": cmd_schema,
    "validate": cmd_validate,
    "emulate": cmd_emulate,
    "receipt-urls": cmd_receipt_urls,
    "web-login": cmd_web_login,
    "conversations": cmd_conversations,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    if args.command == "check-config":
        return _guarded(lambda: cmd_check_config(args.config), "ru")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("configuration problems:", file=sys.stderr)
        for key, message in exc.problems:
            print(f"  {key}: {message}", file=sys.stderr)
        return EXIT_USAGE
    return _guarded(lambda: COMMANDS[args.command](config, args), config.service.language)


def _guarded(command: Callable[[], Any], language: str) -> int:
    """Run a command; each kind of error is one line on stderr and its exit status."""
    try:
        result = command()
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        sys.stdout.flush()
        return int(result)
    except BrokenPipeError:
        return _reader_left()
    except UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BadArgument as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except SchemaTooNew as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseInUse as exc:  # a second `vestnik serve` on one SQLite file
        from bot.core.ops_texts import say

        print(
            say("serve.database_in_use", language, path=exc.path, pid=exc.pid or "?"),
            file=sys.stderr,
        )
        return EXIT_FAIL
    except StorageUnavailable as exc:
        from bot.core.redact import redact_urls

        print(f"error: database unavailable: {redact_urls(str(exc))}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL


def _reader_left() -> int:
    """``vestnik journal | head``: the reader is gone, which is not an error of ours. Point
    stdout at /dev/null so the interpreter's final flush does not complain either."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
