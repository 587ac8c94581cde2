"""A real SMTP server (aiosmtpd) that records what it receives and can be told to fail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class SmtpRecorder:
    messages: list[EmailMessage] = field(default_factory=list)
    # (MAIL FROM, [RCPT TO...]) of every message, as the client gave them
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    connections: int = 0
    # failure injection: reply with these codes to the next RCPT TO commands
    rcpt_failures: list[str] = field(default_factory=list)
    # addresses always refused with a permanent 550
    refused: set[str] = field(default_factory=set)
    data_delay: float = 0.0  # seconds each DATA takes, to keep sends in flight
    # once this many messages are recorded, every further DATA waits until release():
    # a send known to be in flight, for crash tests
    hold_after: int | None = None
    held: int = 0  # DATA commands waiting at the gate now
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def release(self) -> None:
        """Open the gate: held and later DATA commands go through."""
        self.released.set()

    def by_recipient(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.lock:
            if address in self.refused:
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            if self.rcpt_failures:
                return self.rcpt_failures.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        await self._gate()
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    async def _gate(self) -> None:
        with self.lock:
            if self.hold_after is None or len(self.messages) < self.hold_after:
                return
            self.held += 1
        try:
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        finally:
            with self.lock:
                self.held -= 1


class CountingSMTP(SMTP):
    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        handler.connections += 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """``with SmtpServer() as smtp:`` — listens on 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.recorder = SmtpRecorder()
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=free_port(), ready_timeout=10
        )
        self.controller.factory = lambda: CountingSMTP(
            self.recorder,  # type: ignore[method-assign]
            enable_SMTPUTF8=True,
        )

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
