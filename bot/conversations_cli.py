"""``vestnik conversations [--customer X] [--limit N] [--json]``: the stored conversations.

Without ``--customer``: the latest messages of everyone, newest first. With it (a phone, a
customer id, ``phone:+7…`` or ``chat:<id>``): that customer's time line, oldest first, their
notifications included (``--no-notifications`` leaves them out).
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli_common import EXIT_FAIL, EXIT_OK
from bot.core.config import Config
from bot.services.dialogue import Entry, find_customer, timeline
from storage.models import ConversationMessage
from storage.open import open_storage


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "conversations", parents=[common], help="customers' messages and the staff answers"
    )
    parser.add_argument("--customer", help="phone, customer id, phone:+7... or chat:<id>")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument(
        "--no-notifications", action="store_true", help="with --customer: only the messages"
    )
    parser.add_argument("--json", action="store_true")


def message_line(m: ConversationMessage) -> str:
    stamp = m.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    arrow = "<-" if m.direction == "in" else "->"
    who = (m.staff_name or "") if m.direction == "out" else m.customer_key
    text = (m.text or f"[{m.kind}]").replace("\n", " ")[:80]
    error = f"  ({m.error})" if m.error else ""
    return f"{m.id:>6}  {stamp}  {arrow} {m.channel:8} {m.status:9}  {who[:24]:24}  {text}{error}"


def entry_line(entry: Entry) -> str:
    if entry.message is not None:
        return message_line(entry.message)
    row = entry.notification
    assert row is not None
    stamp = entry.at.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"{'#' + str(row.id):>6}  {stamp}  ** {row.channel:8} {row.status:9}  {row.event_type}"


async def cmd_conversations(config: Config, args: argparse.Namespace) -> int:
    storage = open_storage(config.service.database)
    await storage.open()
    try:
        async with storage.reader() as tx:
            if not args.customer:
                messages = await tx.list_conversation(limit=args.limit)
                if args.json:
                    print(json.dumps([m.public() for m in messages], ensure_ascii=False, indent=2))
                else:
                    for m in messages:
                        print(message_line(m))
                return EXIT_OK
            who = await find_customer(tx, args.customer, config.service.default_region)
            if who is None:
                print(f"customer {args.customer} not found", file=sys.stderr)
                return EXIT_FAIL
            entries = await timeline(
                tx, who, limit=args.limit, notifications=not args.no_notifications
            )
    finally:
        await storage.close()
    if args.json:
        print(json.dumps([e.public() for e in entries], ensure_ascii=False, indent=2))
    else:
        for entry in entries:
            print(entry_line(entry))
    return EXIT_OK
