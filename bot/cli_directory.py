"""``vestnik customers import FILE`` and ``vestnik customers list``: the customer directory
from the command line (the commands of :mod:`bot.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli_common import EXIT_FAIL, EXIT_OK, BadArgument, UsageError, _print_json, opened
from bot.core.config import Config
from storage.models import Person

SHOWN_REJECTS = 50


async def cmd_customers(config: Config, args: argparse.Namespace) -> int:
    if args.action == "list":
        return await list_customers(config, args)
    from bot.pipeline.directory_import import import_customers

    if not args.file:
        raise UsageError("vestnik customers import FILE [--encoding cp1251]")
    path = Path(args.file)
    if not path.is_file():
        raise BadArgument(f"file not found: {path}")
    if args.encoding:
        try:
            "".encode(args.encoding)
        except LookupError:
            raise BadArgument(
                f"--encoding {args.encoding!r} is not an encoding (e.g. utf-8, cp1251)"
            ) from None
    from bot.cli_birthdays import offline_intake

    async with opened(config) as storage:
        intake = offline_intake(config, storage)  # customers born today are greeted now
        try:
            report = await import_customers(
                storage,
                path,
                config.service.default_region,
                progress=sys.stderr if sys.stderr.isatty() else None,
                language=config.service.language,
                encoding=args.encoding,
                on_batch=intake.greet_born_today,
            )
        except UnicodeDecodeError as exc:
            raise BadArgument(
                f"{path} is not {args.encoding}: byte 0x{exc.object[exc.start]:02X}"
                f" at offset {exc.start}"
            ) from None
        await storage.notify_new_rows()
    print(
        f"customers imported: {report.imported}, rejected: {len(report.rejected)} "
        f"(read as {report.encoding})"
    )
    if report.planned:
        print(f"birthday greetings planned: {report.planned}")
    for line, problems in report.rejected[:SHOWN_REJECTS]:
        print(f"  line {line}:", file=sys.stderr)
        for text in problems:
            print(f"    {text}", file=sys.stderr)
    if len(report.rejected) > SHOWN_REJECTS:
        print(
            f"  ... and {len(report.rejected) - SHOWN_REJECTS} more rows rejected", file=sys.stderr
        )
    return EXIT_FAIL if report.rejected else EXIT_OK


def _matches(person: Person, needle: str) -> bool:
    fields = (person.id, person.name, person.phone, person.email, person.group)
    return any(needle in (value or "").casefold() for value in fields)


async def list_customers(config: Config, args: argparse.Namespace) -> int:
    async with opened(config) as storage:
        async with storage.reader() as tx:
            people = await tx.list_persons("customer")
    if args.search:
        needle = args.search.casefold()
        people = [p for p in people if _matches(p, needle)]
    people = people[: args.limit]
    if args.json:
        _print_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "phone": p.phone,
                    "email": p.email,
                    "telegram_id": p.telegram_id,
                    "group": p.group,
                    "birthday": p.birthday,
                    "language": p.language,
                    "timezone": p.timezone,
                }
                for p in people
            ]
        )
        return EXIT_OK
    print(f"{'id':16}  {'name':28}  {'phone':16}  {'email':28}  {'birthday':10}  lang")
    for p in people:
        print(
            f"{p.id[:16]:16}  {(p.name or '-')[:28]:28}  {p.phone or '-':16}  "
            f"{(p.email or '-')[:28]:28}  {p.birthday or '-':10}  {p.language or '-'}"
        )
    print(f"{len(people)} customer(s)")
    return EXIT_OK
