"""The telegram channel against the fake Bot API: HTML, splitting, pacing, error classes."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot

from bot.core.config import TelegramConfig
from bot.core.sending import OutgoingMessage, PermanentError, TransientError
from bot.core.telegram_text import split_message, visible_length
from senders.telegram import TelegramSender, build_bot
from senders.telegram_limits import LocalRateLimiter
from tests.fakes.telegram_api import TOKEN, FakeTelegram, html_problem
from tests.telegram_fixtures import VirtualTime, fake_telegram, tg_bot, virtual_time  # noqa: F401


def note(chat: int | str, text: str = "Ваш заказ <b>готов</b>") -> OutgoingMessage:
    return OutgoingMessage(row_id=1, channel="telegram", address=str(chat), text=text)


def sender_for(bot: Bot, **kwargs: object) -> TelegramSender:
    kwargs.setdefault("rate_per_second", 1000)
    return TelegramSender(bot, **kwargs)  # type: ignore[arg-type]


# sending and splitting ----------------------------------------------------------------------------
async def test_message_goes_out_in_html_parse_mode(fake_telegram, tg_bot):
    result = await sender_for(tg_bot).send(note(101))
    [sent] = fake_telegram.to(101)
    assert sent.parse_mode == "HTML" and sent.text == "Ваш заказ <b>готов</b>"
    assert result.provider == "telegram" and result.provider_message_id == str(sent.message_id)


async def test_a_6000_character_text_arrives_as_two_messages_cut_at_a_line(fake_telegram, tg_bot):
    lines = [f"{i:04d} " + "з" * 94 for i in range(60)]  # 60 lines of 100 characters
    text = "\n".join(lines) + "\n"
    assert len(text) == 6000
    result = await sender_for(tg_bot).send(note(102, text))
    first, second = fake_telegram.to(102)
    assert result.segments == 2 and len(result.provider_message_id.split(",")) == 2
    assert len(first.text) <= 4096 and len(second.text) <= 4096
    assert first.text.endswith("\n") and second.text.startswith("0040 ")  # whole lines
    assert first.text + second.text == text


def test_split_closes_and_reopens_tags_and_never_cuts_an_entity():
    text = "<b>" + "слово &amp; слово\n" * 600 + "</b>"
    parts = split_message(text, limit=4096)
    assert len(parts) == 3
    for part in parts:
        assert html_problem(part) is None, part[:80]
        assert visible_length(part) <= 4096
        assert part.startswith("<b>") and part.endswith("</b>")
    assert "".join(p.removeprefix("<b>").removesuffix("</b>") for p in parts) == text[3:-4]


def test_split_without_newlines_cuts_at_a_space_and_counts_utf16():
    text = ("😀 " * 3000).strip()  # an emoji is two UTF-16 units on Telegram's side
    parts = split_message(text, limit=4096)
    assert all(visible_length(p) <= 4096 for p in parts)
    assert all(not p.endswith("\ud83d") for p in parts)
    assert "".join(parts) == text and len(parts) == 3


# errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "description",
    [
        "Forbidden: bot was blocked by the user",
        "Forbidden: user is deactivated",
        "Forbidden: bot can't initiate conversation with a user",
    ],
)
async def test_403_is_permanent_deactivates_the_chat_and_keeps_telegrams_words(
    fake_telegram, tg_bot, description
):
    fake_telegram.fail_chat(103, 403, description)
    with pytest.raises(PermanentError) as caught:
        await sender_for(tg_bot).send(note(103))
    assert caught.value.deactivate_chat is True
    assert str(caught.value) == description


async def test_400_chat_not_found_is_permanent(fake_telegram, tg_bot):
    fake_telegram.fail_chat(104, 400, "Bad Request: chat not found")
    with pytest.raises(PermanentError) as caught:
        await sender_for(tg_bot).send(note(104))
    assert "chat not found" in str(caught.value) and caught.value.deactivate_chat


async def test_broken_markup_is_permanent_for_the_message_only(fake_telegram, tg_bot):
    with pytest.raises(PermanentError) as caught:
        await sender_for(tg_bot).send(note(105, "a <script>b</script>"))
    assert "can't parse entities" in str(caught.value)
    assert caught.value.deactivate_chat is False


async def test_server_error_is_transient_and_counts_as_an_attempt(fake_telegram, tg_bot):
    fake_telegram.fail_chat(106, 502, "Bad Gateway", times=1)
    with pytest.raises(TransientError) as caught:
        await sender_for(tg_bot).send(note(106))
    assert caught.value.counts_as_attempt is True


async def test_network_error_is_transient():
    server = await FakeTelegram().start()
    url = server.base_url
    await server.close()  # nobody listens there any more
    bot = build_bot(TelegramConfig(token=TOKEN, api_base=url))
    try:
        with pytest.raises(TransientError):
            await sender_for(bot).send(note(107))
    finally:
        await bot.session.close()


async def test_not_a_chat_id_is_permanent(tg_bot):
    with pytest.raises(PermanentError):
        await sender_for(tg_bot).send(note("ivan@example.ru"))


# flood control ------------------------------------------------------------------------------------
async def test_429_waits_retry_after_and_delivers_the_same_message(fake_telegram, tg_bot):
    fake_telegram.flood(1, retry_after=1)
    sender = sender_for(tg_bot)
    await sender.send(note(108, "первое"))
    [(chat, code, refused_at)] = fake_telegram.rejected
    [sent] = fake_telegram.to(108)
    assert (chat, code) == (108, 429) and sent.text == "первое"
    assert sent.at - refused_at >= 0.99  # waited Telegram's retry_after
    assert fake_telegram.early_retries == 0 and sender.flood_waits == 1


async def test_429_pauses_every_chat_not_only_the_one_refused(fake_telegram, tg_bot):
    sender = sender_for(tg_bot)
    fake_telegram.flood(1, retry_after=1)
    await sender.send(note(109, "a"))  # refused once, then sent; the pause is global
    refused_at = fake_telegram.rejected[0][2]
    await asyncio.gather(sender.send(note(110, "b")), sender.send(note(111, "c")))
    assert all(s.at - refused_at >= 0.99 for s in fake_telegram.sent)
    assert fake_telegram.early_retries == 0


async def test_429_longer_than_the_send_may_wait_goes_back_without_an_attempt(
    fake_telegram, tg_bot
):
    fake_telegram.flood(1, retry_after=30)
    with pytest.raises(TransientError) as caught:
        await sender_for(tg_bot, max_wait=2).send(note(112))
    assert caught.value.counts_as_attempt is False and caught.value.retry_after == 30


# the limiter (virtual time) -----------------------------------------------------------------------
async def test_limiter_spaces_all_sends_at_the_global_rate(virtual_time: VirtualTime):
    limiter = LocalRateLimiter(10, clock=virtual_time.clock, sleep=virtual_time.sleep, headroom=1.0)
    times: list[float] = []

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(virtual_time.now)

    await virtual_time.run(*(one(chat) for chat in range(1, 31)))
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 30 and min(gaps) >= 0.1 - 1e-9
    assert times[-1] == pytest.approx(2.9)  # no slot wasted


async def test_limiter_keeps_one_second_per_chat_and_three_per_group(virtual_time):
    limiter = LocalRateLimiter(1000, clock=virtual_time.clock, sleep=virtual_time.sleep)
    log: list[tuple[int, float]] = []

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        log.append((chat, virtual_time.now))

    await virtual_time.run(*(one(chat) for chat in (7, 7, 7, -100, -100, 8)))
    private = [at for chat, at in log if chat == 7]
    group = [at for chat, at in log if chat == -100]
    assert [round(b - a, 6) for a, b in zip(private, private[1:], strict=False)] == [1.0, 1.0]
    assert round(group[1] - group[0], 6) == 3.0
    assert dict(log)[8] < 0.01  # another chat is not held up


async def test_limiter_pause_holds_everyone_until_the_deadline(virtual_time):
    limiter = LocalRateLimiter(100, clock=virtual_time.clock, sleep=virtual_time.sleep)
    limiter.pause(5)
    times: list[float] = []

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(virtual_time.now)

    await virtual_time.run(*(one(chat) for chat in range(1, 6)))
    assert min(times) >= 5.0 and limiter.pauses == 1
