"""``vestnik birthdays run [--date D]`` and the planning the directory commands do outside
``vestnik serve``: the pipeline (rules, planner, intake) built for one CLI process.

Rows planned here are committed to the database; a running ``vestnik serve`` sees the commit
within a second (SQLite's data_version, PostgreSQL's NOTIFY) and sends them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date

from bot.core.config import Config
from bot.core.metrics import Metrics
from bot.core.ops_texts import say
from bot.core.timeutil import SystemClock
from bot.pipeline.birthdays import greet_day
from bot.pipeline.intake import Intake
from bot.pipeline.planner import Planner
from bot.pipeline.templates import Templates
from storage.base import Storage


async def _nothing() -> None:
    return None


def offline_intake(config: Config, storage: Storage) -> Intake:
    """The intake as ``serve`` builds it, for planning from the command line."""
    templates = Templates(timezone=config.service.timezone, region=config.service.default_region)
    # the bot's deep links need the running bot's name: none here (a template's
    # {% if telegram_link(customer) %} is left out, as with the bot off)
    templates.globals["telegram_link"] = lambda customer: ""
    return Intake(config, storage, Planner(config, templates), SystemClock(), Metrics(), _nothing)


async def cmd_birthdays(config: Config, args: argparse.Namespace, storage: Storage) -> int:
    """Plan the greetings of the customers born on ``--date`` (default today, service time
    zone) now, and say what was planned; already greeted customers are listed as such."""
    clock = SystemClock()
    try:
        day = (
            date.fromisoformat(args.date)
            if args.date
            else clock.now().astimezone(config.service.tz).date()
        )
    except ValueError:
        print(f"usage: --date must be YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2
    lang = config.service.language
    greetings = await greet_day(storage, offline_intake(config, storage), config, day, clock.now())
    if greetings is None:
        print(say("birthdays.no_rules", lang), file=sys.stderr)
        return 1
    planned = sum(len(g.rows) for g in greetings)
    print(
        say(
            "birthdays.header",
            lang,
            date=day.isoformat(),
            customers=len(greetings),
            planned=planned,
        )
    )
    for greeting in greetings:
        name = greeting.person.name or ""
        if greeting.already:
            print(say("birthdays.already", lang, id=greeting.person.id, name=name))
            continue
        counts = Counter(
            f"{row.channel} {row.status}"
            + (
                f" ({row.reason or row.error})"
                if row.status in ("skipped", "stopped", "failed")
                else ""
            )
            for row in greeting.rows
        )
        rows = ", ".join(f"{what} ×{n}" if n > 1 else what for what, n in counts.items())
        print(say("birthdays.customer", lang, id=greeting.person.id, name=name, rows=rows or "—"))
    if planned:
        await storage.notify_new_rows()
    return 0
