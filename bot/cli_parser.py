"""The ``vestnik`` argument parser, one function per group of commands."""

from __future__ import annotations

import argparse
from typing import Any

from bot.conversations_cli import add_parser as add_conversations_parser
from bot.core.channels import SENDABLE_CHANNELS


# the parser -----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config file (default ./config.toml when it exists)")
    parser = argparse.ArgumentParser(
        prog="vestnik", parents=[common], description="ERP events to notifications"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _service_commands(sub, common)
    _directory_commands(sub, common)
    _operator_commands(sub, common)
    _erp_kit_commands(sub, common)
    add_conversations_parser(sub, common)
    return parser


def _service_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Serve, check-config, migrate, rules, journal, stop list."""
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


def _directory_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Customers and birthdays."""
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


def _operator_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Templates, send-test, receipt URLs, preview, web login."""
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


def _erp_kit_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Schema, validate, emulate: the ERP kit."""
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
