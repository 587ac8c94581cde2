"""E-mail bounces: delivery status notifications (RFC 3464) read from an IMAP mailbox.

A server that accepted a message and could not deliver it later mails a DSN back: a
``multipart/report; report-type=delivery-status`` whose ``message/delivery-status`` part has
one block per recipient (``Action``, ``Status``, ``Final-Recipient``, ``Diagnostic-Code``)
and whose third part carries the original message or its headers, with the ``Message-ID``
Vestnik gave it (the journal's ``provider_message_id``).

:class:`BounceMailbox` reads the unseen messages of ``[[email.accounts]] bounce_imap`` with
the standard library's IMAP client (in a thread) and marks them seen; :func:`parse_dsn`
turns one into receipts. Messages that are not DSNs are left alone apart from the flag.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
from email.message import Message

from bot.core.config import BounceImap
from bot.core.sending import Delivery, DeliveryReport, TransientError

# RFC 3464 Action -> verdict; "relayed" and "expanded" say nothing about arrival
ACTIONS: dict[str, Delivery] = {
    "failed": Delivery.FAILED,
    "delayed": Delivery.TRYING,
    "delivered": Delivery.DELIVERED,
}


def _original_message_id(report: Message) -> str | None:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            original = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(original, Message) and original.get("Message-ID"):
                return str(original["Message-ID"]).strip()
        elif kind == "text/rfc822-headers":
            headers = email.message_from_string(str(part.get_payload(decode=False)))
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return None


def _recipient_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                return [block for block in blocks[1:] if isinstance(block, Message)]
    return []


def parse_dsn(raw: bytes) -> list[DeliveryReport]:
    """The receipts of one DSN; empty for anything else (an out-of-office, a spam)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if (
        message.get_content_type() != "multipart/report"
        or str(message.get_param("report-type", "")).lower() != "delivery-status"
    ):
        return []
    message_id = _original_message_id(message)
    if not message_id:
        return []
    out = []
    for block in _recipient_blocks(message):
        state = ACTIONS.get(str(block.get("Action", "")).strip().lower())
        if state is None:
            continue
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        address = recipient.split(";", 1)[-1].strip() or None
        status = str(block.get("Status", "")).strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split(";", 1)[-1].split())
        words = " ".join(part for part in (status, diagnostic) if part) or state.value
        out.append(DeliveryReport(message_id, state, words, phone=address))
    return out


class BounceMailbox:
    """The unseen messages of one bounce mailbox, each marked seen once read."""

    def __init__(self, account: str, config: BounceImap) -> None:
        self.account = account
        self.config = config

    async def fetch(self) -> list[bytes]:
        try:
            return await asyncio.to_thread(self._fetch)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise TransientError(
                f"bounce mailbox {self.config.host}: {exc}", provider=self.account
            ) from None

    def _fetch(self) -> list[bytes]:
        c = self.config
        client = (
            imaplib.IMAP4_SSL(c.host, c.port, timeout=c.timeout)
            if c.tls == "ssl"
            else imaplib.IMAP4(c.host, c.port, timeout=c.timeout)
        )
        try:
            password = c.password.get_secret_value() if c.password else ""
            client.login(c.username, password)
            client.select(c.mailbox)
            _, found = client.search(None, "UNSEEN")
            out = []
            for number in (found[0] or b"").split():
                _, data = client.fetch(number.decode(), "(RFC822)")
                raw = next((item[1] for item in data if isinstance(item, tuple)), None)
                if raw is not None:
                    out.append(bytes(raw))
                client.store(number.decode(), "+FLAGS", "(\\Seen)")
            return out
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
