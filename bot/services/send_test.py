"""One test message through a named channel and provider — the seed's "send a test SMS"
button, for ``vestnik send-test`` (and the bot's ``/test``)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.core.channels import SMS_CHANNELS, channel_unavailable
from bot.core.config import Config
from bot.core.phones import normalize_phone
from bot.core.sending import OutgoingMessage, Sender, SendError, SendResult
from bot.core.sms_text import segments
from bot.core.timeutil import SystemClock
from senders.registry import build_senders

DEFAULT_TEXT = {"ru": "Тестовое сообщение Vestnik", "en": "Vestnik test message"}


@dataclass
class TestAnswer:
    ok: bool
    summary: str
    result: SendResult | None = None


def test_message(
    config: Config, channel: str, address: str, provider: str | None, text: str | None
) -> OutgoingMessage:
    if channel in SMS_CHANNELS:
        phone = normalize_phone(address, config.service.default_region)
        if phone is None:
            raise LookupError(f"{address!r} is not a valid phone number")
        address = phone
    body = text or DEFAULT_TEXT[config.service.language]
    return OutgoingMessage(
        row_id=0,
        channel=channel,
        address=address,
        text=body,
        subject=body,
        providers=[provider] if provider else [],
        language=config.service.language,
    )


async def send_with(sender: Sender, message: OutgoingMessage) -> TestAnswer:
    """Send and summarise; a channel that can keep the provider's raw answer (the SMS
    portals' ``deliver(keep_answer=True)``) shows it, credentials removed."""
    deliver = getattr(sender, "deliver", None)
    try:
        if deliver is not None:
            result = await deliver(message, keep_answer=True)
        else:
            result = await sender.send(message)
    except SendError as exc:
        kind = "permanent" if exc.permanent else "transient"
        return TestAnswer(False, f"not sent ({kind}): {exc}")
    parts = [f"sent via {result.provider or message.channel}"]
    if result.provider_message_id:
        parts.append(f"message id {result.provider_message_id}")
    if message.channel in SMS_CHANNELS:
        parts.append(f"{result.segments or segments(message.text)} segment(s)")
    if result.hops:
        parts.append(f"after: {result.hops}")
    summary = ", ".join(parts)
    if result.detail:
        summary += f"\nanswer: {result.detail}"
    return TestAnswer(True, summary, result)


async def send_test(
    config: Config,
    channel: str,
    address: str,
    *,
    provider: str | None = None,
    text: str | None = None,
) -> TestAnswer:
    """Build the channel from the config, send one message, close everything again."""
    reason = channel_unavailable(config, channel, [provider] if provider else [])
    if reason:
        raise LookupError(reason)
    message = test_message(config, channel, address, provider, text)
    clock = SystemClock()
    async with aiohttp.ClientSession() as session:
        if channel == "telegram":
            from senders.telegram import standalone_sender

            async with standalone_sender(config, session) as bot_sender:
                return await send_with(bot_sender, message)
        senders = build_senders(config, session, clock)
        sender = senders[channel]
        unique = list(dict.fromkeys(senders.values()))
        for each in unique:
            await each.start()
        try:
            return await send_with(sender, message)
        finally:
            for each in reversed(unique):
                await each.close()
