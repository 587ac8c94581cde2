"""The ``vestnik`` command line (the README). Exit status: 0 success, 2 bad usage or
configuration, 1 anything else. Listing commands take ``--json`` and print the column names
of docs/rules.md. The commands live in ``bot/cli_*.py``; the parser in ``bot/cli_parser.py``."""

from __future__ import annotations

import argparse
import asyncio
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
from bot.cli_journal import cmd_journal, cmd_stoplist
from bot.cli_parser import build_parser
from bot.cli_serve import cmd_check_config, cmd_migrate, cmd_serve
from bot.conversations_cli import cmd_conversations
from bot.core.config import Config, ConfigError, load_config
from storage.base import DatabaseInUse, SchemaTooNew, StorageUnavailable


# rules ------------------------------------------------------------------------------------------
async def rule_warnings(config: Config, text: str) -> list[str]:
    """Rules for a type that is not in the catalog and was never posted: likely a typo."""
    from bot.pipeline.rule_file import parse_rules_toml
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
    from bot.pipeline.rule_file import RuleFileError, export_rules_toml
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
