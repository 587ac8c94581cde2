"""``/test`` (one message through a channel and provider), ``/status`` (queue and channels)
and ``/preview`` (what goes out in the next hours)."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from markupsafe import escape

from bot.core.channels import CHANNELS, channel_unavailable, providers_of
from bot.core.config import Config
from bot.core.sending import Sender
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.pipeline.preview import preview_line, preview_rows
from bot.services import status as status_service
from bot.services.control import DispatchControl
from bot.services.journal import LIST_CAP
from bot.services.send_test import send_with, test_message
from handlers.staff.common import answer_long, lang_of, short, staff_router
from storage.base import Storage


async def test(
    message: Message, command: CommandObject, config: Config, senders: Mapping[str, Sender]
) -> None:
    lang = lang_of(message)
    args = (command.args or "").split(maxsplit=2)
    if len(args) < 2 or args[0].lower() not in CHANNELS:
        await message.answer(t("test.usage", lang, channels=", ".join(CHANNELS)))
        return
    channel, address = args[0].lower(), args[1]
    provider, text = None, None
    if len(args) == 3:
        first, _, rest = args[2].partition(" ")
        if first in providers_of(config, channel):
            provider, text = first, rest.strip() or None
        else:
            text = args[2]
    reason = channel_unavailable(config, channel, [provider] if provider else [])
    sender = senders.get(channel)
    if reason or sender is None:
        await message.answer(
            t("test.unavailable", lang, reason=reason or f"{channel} is not running")
        )
        return
    try:
        outgoing = test_message(config, channel, address, provider, text)
    except LookupError as exc:
        await message.answer(t("test.bad_address", lang, reason=str(exc).strip("'\"")))
        return
    outgoing.language = lang
    answer = await send_with(sender, outgoing)
    await answer_long(
        message, t("test.sent" if answer.ok else "test.failed", lang, summary=answer.summary)
    )


async def status(
    message: Message, storage: Storage, senders: Mapping[str, Sender], control: DispatchControl
) -> None:
    lang = lang_of(message)
    queue = await status_service.queue(storage)
    lines = [t("status.header", lang), f"<b>{t('status.queue', lang)}</b>"]
    lines += [
        f"{escape(channel)}: {escape(', '.join(f'{s} {n}' for s, n in counts))}"
        for channel, counts in queue.items()
    ] or [t("status.queue_empty", lang)]
    lines.append(f"\n<b>{t('status.channels', lang)}</b>")
    if not senders:
        lines.append(t("status.no_channels", lang))
    for name, state in status_service.channel_states(senders, control.last_errors()).items():
        shown = ", ".join(f"{k}: {short(v, 200)}" for k, v in state.items())
        lines.append(f"{escape(name)}: {escape(shown or 'ok')}")
    await answer_long(message, "\n".join(lines))


async def preview(
    message: Message, command: CommandObject, storage: Storage, config: Config, clock: Clock
) -> None:
    lang = lang_of(message)
    try:
        hours = float((command.args or "24").strip().removesuffix("h").removesuffix("ч"))
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 24 * 366:
        await message.answer(t("preview.usage", lang))
        return
    shown = f"{hours:g}"
    items = await preview_rows(storage, config, hours=hours, clock=clock, limit=LIST_CAP + 1)
    if not items:
        await message.answer(t("preview.empty", lang, hours=shown))
        return
    lines = [t("preview.header", lang, hours=shown)]
    lines += [str(escape(preview_line(item))) for item in items[:LIST_CAP]]
    if len(items) > LIST_CAP:
        lines.append(t("preview.more", lang, shown=LIST_CAP))
    await answer_long(message, "\n".join(lines))


def build_router() -> Router:
    router = staff_router("staff.status")
    router.message.register(test, Command("test"))
    router.message.register(status, Command("status"))
    router.message.register(preview, Command("preview"))
    return router
