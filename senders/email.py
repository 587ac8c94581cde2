"""Email over SMTP (aiosmtplib): ``[[email.accounts]]``, connections reused per account.

SMTP 5xx for a recipient is permanent; connection errors, timeouts and 4xx are transient.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
from email.header import Header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

import aiosmtplib

from bot.core.config import EmailAccount, EmailConfig
from bot.core.emails import InvalidEmail, parse_mailbox
from bot.core.sending import OutgoingMessage, PermanentError, SendResult, TransientError
from bot.core.timeutil import Clock, SystemClock

log = logging.getLogger("vestnik.email")


class WholeSubject(UnstructuredHeader):
    """A subject folded so a client shows exactly what the journal holds.

    The standard folder can put a space between two encoded words, where RFC 2047 says it
    is to be dropped ("5 000,00 ₽по заказу"); here every space travels inside the encoded
    words, which split only between characters.
    """

    def fold(self, *, policy: Any) -> str:
        value = str(self)
        name: str = self.name  # type: ignore[attr-defined]  # BaseHeader mixed in by the registry
        if value.isascii():
            return str(super().fold(policy=policy))  # type: ignore[misc]
        words = Header(value, "utf-8", header_name=name).encode(linesep=policy.linesep)
        return f"{name}: {words}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", WholeSubject)  # type: ignore[arg-type]
MAIL_POLICY = email.policy.default.clone(header_factory=_HEADERS)


def envelope_recipient(message: OutgoingMessage) -> str:
    """The one mailbox of the row's address, parsed (never the raw text) for RCPT TO."""
    try:
        return parse_mailbox(message.address)
    except InvalidEmail as exc:
        raise PermanentError(
            f"invalid e-mail address {message.address[:100]!r}: {exc}", provider="email"
        ) from None


def build_message(
    account: EmailAccount, message: OutgoingMessage, clock: Clock, recipient: str
) -> EmailMessage:
    mail = EmailMessage(policy=MAIL_POLICY)
    display = message.sender_name or account.from_name
    mail["From"] = formataddr((display, account.from_address)) if display else account.from_address
    mail["To"] = recipient
    mail["Subject"] = message.subject or "(no subject)"
    mail["Date"] = format_datetime(clock.now())
    domain = account.from_address.rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(idstring=f"vestnik{message.row_id}", domain=domain)
    if account.reply_to:
        mail["Reply-To"] = account.reply_to
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class AccountPool:
    """Idle SMTP connections of one account, reused; a broken one is dropped."""

    def __init__(self, account: EmailAccount) -> None:
        self.account = account
        self.idle: list[aiosmtplib.SMTP] = []
        self.slots = asyncio.Semaphore(account.max_connections)
        self.opened = 0  # connections opened since start, for the benchmark and tests

    async def connect(self) -> aiosmtplib.SMTP:
        a = self.account
        client = aiosmtplib.SMTP(
            hostname=a.host,
            port=a.port,
            use_tls=a.tls == "ssl",
            start_tls=a.tls == "starttls",
            timeout=a.timeout,
            validate_certs=True,
        )
        await client.connect()
        if a.username:
            await client.login(a.username, a.password.get_secret_value() if a.password else "")
        self.opened += 1
        return client

    async def close(self) -> None:
        for client in self.idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        self.idle.clear()


def classify(exc: BaseException, account: str) -> PermanentError | TransientError:
    """SMTP replies and network failures as permanent or transient, in the server's words."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [(r.code, r.message) for r in exc.recipients]
        code, text = codes[0] if codes else (550, str(exc))
        words = f"SMTP {code}: {text}"
        return (
            PermanentError(words, provider=account)
            if code >= 500
            else TransientError(words, provider=account)
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # a wrong password is the operator's to fix; retry on the ladder meanwhile
        return TransientError(
            f"SMTP authentication failed ({exc.code}): {exc.message}", provider=account
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        words = f"SMTP {exc.code}: {exc.message}"
        return (
            PermanentError(words, provider=account)
            if 500 <= exc.code < 600
            else TransientError(words, provider=account)
        )
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        return TransientError("SMTP timeout", provider=account)
    return TransientError(f"SMTP connection failed: {exc}", provider=account)


class EmailSender:
    channel = "email"

    def __init__(self, config: EmailConfig, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.pools = {a.name: AccountPool(a) for a in config.accounts}
        self.default = config.accounts[0].name if config.accounts else None
        self.concurrency = sum(a.max_connections for a in config.accounts) or 1
        self.last_error: str | None = None
        self.sent = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()

    async def refresh(self) -> None:
        return None  # nothing to refresh: the status is kept as sends happen

    def status(self) -> dict[str, Any]:
        return {
            "accounts": list(self.pools),
            "sent": self.sent,
            "last_error": self.last_error,
            "connections_opened": {n: p.opened for n, p in self.pools.items()},
        }

    async def send(self, message: OutgoingMessage) -> SendResult:
        name = message.providers[0] if message.providers else self.default
        pool = self.pools.get(name or "")
        if pool is None:
            raise PermanentError(f"email account {name!r} is not configured")
        recipient = envelope_recipient(message)
        mail = build_message(pool.account, message, self.clock, recipient)
        sender = pool.account.from_address
        async with pool.slots:
            client: aiosmtplib.SMTP | None = None
            try:
                client = pool.idle.pop() if pool.idle else await pool.connect()
                try:
                    await client.send_message(mail, sender=sender, recipients=[recipient])
                except aiosmtplib.SMTPServerDisconnected:
                    # an idle connection the server closed meanwhile: one fresh try
                    client.close()
                    client = await pool.connect()
                    await client.send_message(mail, sender=sender, recipients=[recipient])
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if client is not None:
                    if isinstance(exc, aiosmtplib.SMTPResponseException) and client.is_connected:
                        await _reset(client)  # the session is fine, only this mail was refused
                    if client.is_connected and isinstance(exc, aiosmtplib.SMTPResponseException):
                        pool.idle.append(client)
                    else:
                        client.close()
                error = classify(exc, pool.account.name)
                self.last_error = str(error)
                raise error from None
            pool.idle.append(client)
        self.sent += 1
        return SendResult(provider=pool.account.name, provider_message_id=mail["Message-ID"])


async def _reset(client: aiosmtplib.SMTP) -> None:
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
