"""The one small interface every channel implements.

The dispatcher hands a sender an :class:`OutgoingMessage` and gets back a :class:`SendResult`
or one of two classified errors: :class:`PermanentError` (never retried: bad address, blocked
bot, no money) or :class:`TransientError` (retried on the backoff ladder: timeouts, 5xx,
busy modem). A sender knows nothing of rules, events or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True)
class OutgoingMessage:
    """What one journal row asks a channel to deliver."""

    row_id: int
    channel: str
    address: str  # e-mail, E.164 phone, Telegram chat id or staff id, as the channel expects
    text: str
    subject: str = ""
    html: str | None = None  # email only: optional HTML alternative
    providers: list[str] = field(default_factory=list)  # named account/portal/modem; a chain
    sender_name: str | None = None  # email display name / SMS sender id override
    language: str = "ru"
    recipient_name: str = ""
    recipient_id: str | None = None
    recipient_role: str = ""


@dataclass(slots=True)
class SendResult:
    provider: str | None = None
    provider_message_id: str | None = None
    segments: int | None = None
    detail: str | None = None  # e.g. the portal's answer, for `send-test`
    # providers that failed before this one succeeded: "smsru: no money; smsc: timeout"
    hops: str | None = None
    # the provider can be asked for a delivery receipt (the receipt poller will ask)
    pollable: bool = False


class Delivery(StrEnum):
    """What a provider's delivery receipt says, in three words."""

    DELIVERED = "delivered"
    TRYING = "trying"  # queued, passed on, sent to the operator: not final
    FAILED = "failed"  # undelivered, expired, rejected: final


@dataclass(slots=True)
class DeliveryReport:
    """One receipt: the provider's message id, its verdict, and its own words."""

    message_id: str
    state: Delivery
    words: str  # "103 delivered", "status 2 not delivered": goes into the journal's receipt
    at: datetime | None = None  # when the provider says it happened
    phone: str | None = None  # when the receipt names the recipient


class SendError(Exception):
    """A classified failure. ``str(error)`` is what goes into the journal's ``error``."""

    permanent: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        retry_after: float | None = None,
        counts_as_attempt: bool = True,
        deactivate_chat: bool = False,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after = retry_after
        self.counts_as_attempt = counts_as_attempt
        # telegram 403: the chat link is marked inactive and a stop entry added
        self.deactivate_chat = deactivate_chat


class PermanentError(SendError):
    permanent = True


class TransientError(SendError):
    permanent = False


@runtime_checkable
class Sender(Protocol):
    """A channel. ``concurrency`` caps the dispatcher's parallel sends on it."""

    channel: str
    concurrency: int

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, message: OutgoingMessage) -> SendResult: ...

    def status(self) -> dict[str, Any]:
        """State for /healthz and the bot's /status (last error, balance, signal...)."""
        ...

    async def refresh(self) -> None:
        """Refresh the status snapshot (portal balances, modem signal); most do nothing."""
        ...


class Inbox(Protocol):
    """Where the internal channel keeps staff messages (the storage, seen through the
    pipeline's :class:`bot.pipeline.inbox.StorageInbox`): the channel knows no SQL."""

    async def store(
        self, *, staff_id: str, text: str, subject: str | None, journal_id: int | None
    ) -> tuple[int, int | None]:
        """Store one message; returns (inbox id, the staff member's active chat id or None)."""
        ...

    async def deactivate_chat(self, chat_id: int) -> None: ...
