"""The ``vestnik emulate`` command: options and config defaults to a run, and its summary."""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from datetime import datetime

from bot.core.config import Config
from bot.emulate.runner import Report, Target, emulate
from bot.emulate.stories import STORY_TYPES, StoryMaker, make_stories

TEXTS = {
    "summary": {
        "ru": "событий {events}, запросов {requests}: принято {accepted}, дубликатов "
        "{duplicates}, ошибок {errors}; задержка p50 {p50} мс, p99 {p99} мс; "
        "{elapsed} с, {rate} событий/с",
        "en": "{events} events in {requests} requests: accepted {accepted}, duplicates "
        "{duplicates}, errors {errors}; latency p50 {p50} ms, p99 {p99} ms; "
        "{elapsed} s, {rate} events/s",
    },
    "statuses": {"ru": "ответы: {statuses}", "en": "answers: {statuses}"},
    "error": {"ru": "ошибка: {error}", "en": "error: {error}"},
    "bad_type": {
        "ru": "--type {bad}: эмулятор умеет {known}",
        "en": "--type {bad}: the emulator makes {known}",
    },
    "bad_number": {
        "ru": "--count, --batch и --concurrency — целые > 0, --rate ≥ 0",
        "en": "--count, --batch and --concurrency must be integers > 0, --rate ≥ 0",
    },
}


def default_url(config: Config) -> str:
    webhook = config.webhook
    host = webhook.host
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: reach it on this machine
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{webhook.port}{webhook.path}"


def target_from(config: Config, args: argparse.Namespace) -> Target:
    """The command line wins; else the config's webhook: its secret, else its first token."""
    webhook = config.webhook
    token, secret = args.token, args.secret
    if token is None and secret is None:
        if webhook.secret is not None:
            secret = webhook.secret.get_secret_value()
        elif webhook.tokens:
            token = webhook.tokens[0].get_secret_value()
    return Target(url=args.url or default_url(config), token=token, secret=secret)


def problem(config: Config, args: argparse.Namespace) -> str | None:
    """What is wrong with the options (exit 2), or None."""
    lang = config.service.language
    unknown = sorted(set(args.type or ()) - STORY_TYPES)
    if unknown:
        return TEXTS["bad_type"][lang].format(
            bad=", ".join(unknown), known=", ".join(sorted(STORY_TYPES))
        )
    if args.count < 1 or args.batch < 1 or args.rate < 0 or args.concurrency < 1:
        return TEXTS["bad_number"][lang]
    return None


def summary(report: Report, lang: str) -> str:
    data = report.public()
    line = TEXTS["summary"][lang].format(
        **{k: data[k] for k in ("events", "requests", "accepted", "duplicates", "errors")},
        p50=data["latency_ms"]["p50"],
        p99=data["latency_ms"]["p99"],
        elapsed=data["elapsed_s"],
        rate=data["events_per_s"],
    )
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items()))
    lines = [line, TEXTS["statuses"][lang].format(statuses=statuses)]
    lines += [TEXTS["error"][lang].format(error=e) for e in report.first_errors]
    return "\n".join(lines)


async def run_emulate(config: Config, args: argparse.Namespace) -> int:
    """Exit 0 when every event was accepted or known, 1 when the server refused any."""
    now = datetime.now(config.service.tz).replace(tzinfo=None)
    maker = StoryMaker(random.Random(args.seed), uuid.uuid4().hex[:8], now)
    types = frozenset(args.type) if args.type else None
    stories = make_stories(args.count, types, maker)
    progress = sys.stderr if sys.stderr.isatty() else None  # a bar only on a terminal
    report = await emulate(
        target_from(config, args),
        stories,
        rate=args.rate,
        batch=args.batch,
        lanes=args.concurrency,
        progress=progress,
    )
    if args.json:
        print(json.dumps(report.public(), ensure_ascii=False, indent=2))
    else:
        print(summary(report, config.service.language))
    return 0 if report.errors == 0 else 1
