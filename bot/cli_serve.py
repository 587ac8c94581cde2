"""``vestnik serve``, ``check-config`` and ``migrate``."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli_common import (
    EXIT_OK,
    EXIT_USAGE,
    BadArgument,
    opened,
)
from bot.core.config import Config


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
