"""The internal channel: a message to a staff member's inbox (docs/architecture.md), shown by ``/inbox``.

``message.address`` is the staff id. The message is stored in the inbox first — that is the
delivery — and then forwarded to the staff member's Telegram chat when one is linked and the
bot is running. A failed forward never fails the row (the inbox has it); a chat that blocked
the bot is marked inactive so the next forward does not try it.
"""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import Markup

from bot.core.sending import Inbox, OutgoingMessage, PermanentError, SendError, SendResult
from bot.core.texts import t

log = logging.getLogger("vestnik.internal")


class InternalSender:
    channel = "internal"
    concurrency = 8

    def __init__(self, inbox: Inbox, telegram: Any | None = None) -> None:
        self.inbox = inbox
        self.telegram = telegram  # a TelegramSender, or None when the bot is off
        self.stored = 0
        self.forwarded = 0
        self.last_error: str | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def refresh(self) -> None:
        return None  # nothing to refresh: the status is kept as sends happen

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stored": self.stored,
            "forwarded": self.forwarded,
            "forwarding": self.telegram is not None,
        }
        if self.last_error:
            out["last_error"] = self.last_error
        return out

    async def send(self, message: OutgoingMessage) -> SendResult:
        staff_id = message.address.strip()
        if not staff_id:
            raise PermanentError("internal: no staff id to deliver to", provider="inbox")
        inbox_id, chat_id = await self.inbox.store(
            staff_id=staff_id,
            text=message.text,
            subject=message.subject or None,
            journal_id=message.row_id or None,
        )
        self.stored += 1
        detail = "stored in the inbox"
        if chat_id is not None and self.telegram is not None:
            detail = await self._forward(message, chat_id)
        elif self.telegram is not None:
            detail += "; no linked Telegram chat to forward to"
        return SendResult(provider="inbox", provider_message_id=str(inbox_id), detail=detail)

    async def _forward(self, message: OutgoingMessage, chat_id: int) -> str:
        text = message.text
        if message.subject:  # the subject is plain text; the body is already Telegram HTML
            text = t(
                "internal.forward",
                message.language,
                subject=message.subject,
                text=Markup(message.text),
            )
        forward = OutgoingMessage(
            row_id=message.row_id,
            channel="telegram",
            address=str(chat_id),
            text=text,
            language=message.language,
        )
        try:
            await self.telegram.send(forward)  # type: ignore[union-attr]
        except SendError as exc:
            self.last_error = f"forward to chat {chat_id}: {exc}"
            log.warning("internal row %s: %s", message.row_id, self.last_error)
            if exc.deactivate_chat:
                await self.inbox.deactivate_chat(chat_id)
            return f"stored in the inbox; forwarding to Telegram failed: {exc}"
        self.forwarded += 1
        return f"stored in the inbox and forwarded to Telegram chat {chat_id}"
