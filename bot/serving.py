"""The listening socket of ``vestnik serve``, guarded against idle and abusive clients.

- a connection must send a complete request within ``webhook.header_timeout`` seconds, and
  an idle keep-alive connection is closed after the same time (aiohttp's keep-alive timer
  starts when the connection opens and is not reset by partial headers); a body must arrive
  within ``webhook.body_timeout`` (the intake's read);
- at most ``webhook.max_connections`` connections are open (lowered to what the process's
  file-descriptor limit allows); one more is answered ``503`` with the reason and closed;
- ``accept()`` failures are logged once per interval with a count, not once each;
- a client that goes away mid-request is one log line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import time
from typing import Any

from aiohttp import web

from bot.core.config import WebhookConfig

log = logging.getLogger("vestnik.http")
FD_RESERVE = 64  # descriptors kept for the database, SMTP, portals, modems, logs
LOG_EVERY = 10.0  # seconds between two reports of accept() failures
_ABORTS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def connection_cap(config: WebhookConfig) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return config.max_connections
    room = max(8, soft - FD_RESERVE)
    if room < config.max_connections:
        log.warning(
            "webhook.max_connections = %d but only %d file descriptors are allowed "
            "(ulimit -n %d): at most %d connections",
            config.max_connections,
            soft,
            soft,
            room,
        )
    return min(config.max_connections, room)


class _Refuse(asyncio.Protocol):
    """One connection over the cap: a 503 that says why, then close."""

    def __init__(self, cap: int) -> None:
        self.cap = cap

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        body = (
            f'{{"error": "too_many_connections", "message": "more than {self.cap} open '
            'connections: retry later"}'
        ).encode()
        head = (
            f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Retry-After: 5\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        assert isinstance(transport, asyncio.Transport)
        transport.write(head.encode() + body)
        transport.close()


class GuardedSite(web.TCPSite):
    """A TCP site whose protocol factory counts open connections."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, cap: int) -> None:
        super().__init__(runner, host, port)
        self.cap = cap
        self.refused = 0

    async def start(self) -> None:
        await web.BaseSite.start(self)  # (registers the site; TCPSite.start would listen)
        server = self._runner.server
        assert server is not None

        def factory() -> asyncio.Protocol:
            if len(server.connections) >= self.cap:
                self.refused += 1
                return _Refuse(self.cap)
            return server()

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            factory,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
        )


class AcceptErrorReporter:
    """A loop exception handler: accept() failures counted and reported once per interval."""

    def __init__(self) -> None:
        self.count = 0
        self.reported_at = 0.0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        exc = context.get("exception")
        if message.startswith("socket.accept()"):
            self.count += 1
            now = time.monotonic()
            if now - self.reported_at >= LOG_EVERY:
                log.error(
                    "%d accept() failures in the last %.0f s (%s): too many connections "
                    "for the file-descriptor limit",
                    self.count,
                    LOG_EVERY,
                    exc,
                )
                self.count, self.reported_at = 0, now
            return
        if isinstance(exc, _ABORTS):
            log.info("a client went away: %s", exc)
            return
        loop.default_exception_handler(context)


class OneLineAborts(logging.Filter):
    """aiohttp's "Error handling request" for a vanished client: one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], _ABORTS):
            record.msg, record.args = f"a client went away: {record.exc_info[1]}", None
            record.exc_info, record.exc_text = None, None
        return True


def run(app: web.Application, config: WebhookConfig, *, shutdown_timeout: float) -> None:
    """Serve until SIGINT/SIGTERM, then shut down gracefully."""
    logging.getLogger("aiohttp.server").addFilter(OneLineAborts())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(AcceptErrorReporter())
        # a signal only sets this: the shutdown below runs while every task still lives, in
        # the cleanup contexts' order (aiohttp's own handler raises GracefulExit instead, and
        # asyncio.run then cancels all tasks at once, the writer and the dispatcher among
        # them, before that order could run)
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=shutdown_timeout,
            keepalive_timeout=config.header_timeout,
        )
        await runner.setup()
        try:
            await GuardedSite(runner, config.host, config.port, cap=connection_cap(config)).start()
            await stop.wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # a second Ctrl+C before the handlers were installed
        pass
