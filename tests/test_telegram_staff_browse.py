"""Browsing with buttons: /journal pages and filters, a row in full with Resend and Stop this
person (each confirmed); /stoplist pages and remove; /rules open and block toggle;
/templates; buttons pressed by someone who is not staff."""

from __future__ import annotations

import pytest

from storage.models import StopEntry
from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.fakes.telegram_api import buttons, callback
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)

STRANGER = 2001


@pytest.fixture
async def tg(bot_app, smtp):
    app = await bot_app()
    await app.running.rules(CUSTOMER_EMAIL_RULE)
    return app


def labels(sent) -> list[str]:
    return [text for text, _ in buttons(sent)]


async def post_many(tg, count: int) -> None:
    for i in range(count):
        await tg.running.post(booked(f"b-{i}", order={"id": f"O-{i}", "number": f"ЗН-{i}"}))
    await tg.running.wait_rows(
        lambda rows: len(rows) == count and all(r.status == "sent" for r in rows)
    )


async def test_journal_pages_and_filters_by_pressing(tg):
    await post_many(tg, 12)
    [card] = await tg.say(ADMIN_ID, "/journal")
    assert "#12" in labels(card) and "#3" in labels(card) and "#2" not in labels(card)
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "стр. 2" in card.text and labels(card)[:2] == ["#2", "#1"]
    assert "◀️ Назад" in labels(card) and "Дальше ▶️" not in labels(card)
    card = await tg.press(ADMIN_ID, "Назад")
    assert "#12" in labels(card)
    card = await tg.press(ADMIN_ID, "С ошибкой")
    assert card.text == "Ничего не найдено." and "• С ошибкой" in labels(card)
    card = await tg.press(ADMIN_ID, "Все")
    card = await tg.press(ADMIN_ID, "Канал: *")  # channel cycles: telegram first
    assert "Канал: telegram" in labels(card) and card.text == "Ничего не найдено."
    card = await tg.press(ADMIN_ID, "Канал: telegram")
    assert "Канал: email" in labels(card) and "channel email" in card.text
    card = await tg.press(ADMIN_ID, "Статус: *")
    assert "Статус: sent" in labels(card) and "status sent" in card.text
    assert "#12" in labels(card)


async def test_a_row_opens_in_full_and_is_resent_after_confirmation(tg, smtp):
    await post_many(tg, 1)
    await tg.say(ADMIN_ID, "/journal")
    card = await tg.press(ADMIN_ID, "#1")
    assert "<b>address</b>: ivan@example.ru" in card.text and "<b>text</b>" in card.text
    card = await tg.press(ADMIN_ID, "Отправить заново")
    assert card.text.startswith("Отправить уведомление #1 заново?")
    assert len(smtp.recorder.by_recipient("ivan@example.ru")) == 1  # asked, not done
    card = await tg.press(ADMIN_ID, "Да, отправить")
    assert "поставлено в очередь" in card.text
    await tg.running.wait_rows(lambda rows: len(smtp.recorder.by_recipient("ivan@example.ru")) == 2)
    card = await tg.press(ADMIN_ID, "К списку")
    assert card.text.startswith("<b>Журнал: последние</b>")


async def test_stop_this_person_from_a_row(tg):
    await post_many(tg, 1)
    await tg.say(ADMIN_ID, "/journal")
    await tg.press(ADMIN_ID, "#1")
    card = await tg.press(ADMIN_ID, "Не писать этому человеку")
    assert "стоп-лист" in card.text
    async with tg.storage.reader() as tx:
        assert await tx.list_stops() == []
    card = await tg.press(ADMIN_ID, "Да, в стоп-лист")
    assert "Добавлено в стоп-лист: #1 customer:C-001 · * · *" in card.text
    await tg.running.post(booked("b-after"))
    rows = await tg.running.wait_rows(lambda rows: len(rows) == 2)
    assert rows[-1].status == "stopped" and rows[-1].reason == "stop list entry 1"


async def test_stoplist_pages_and_remove_with_confirmation(tg):
    for n in range(10):
        await tg.storage.write(
            lambda tx, n=n: tx.add_stop(
                StopEntry(who=f"+7916000{n:04d}", who_kind="phone", author="cli")
            )
        )
    [card] = await tg.say(ADMIN_ID, "/stoplist")
    assert card.text.count("phone:+7916000") == 8 and "Дальше ▶️" in labels(card)
    card = await tg.press(ADMIN_ID, "Дальше")
    assert card.text.count("phone:+7916000") == 2 and "стр. 2" in card.text
    card = await tg.press(ADMIN_ID, "❌ #2")
    assert card.text.startswith("Удалить запись #2 из стоп-листа?")
    card = await tg.press(ADMIN_ID, "Отмена")
    assert "#2" in card.text
    await tg.press(ADMIN_ID, "❌ #2")
    card = await tg.press(ADMIN_ID, "Да, удалить")
    assert card.text.startswith("Запись #2 удалена.")
    async with tg.storage.reader() as tx:
        assert 2 not in [e.id for e in await tx.list_stops()]


async def test_rules_open_and_block_toggle(tg):
    [card] = await tg.say(ADMIN_ID, "/rules")
    card = await tg.press(ADMIN_ID, "#1 booked, customer")
    assert "name = &#34;booked, customer&#34;" in card.text
    card = await tg.press(ADMIN_ID, "Выключить")
    assert "blocked = true" in card.text and "✅ Включить" in labels(card)
    assert "выключено · telegram:500" in card.text
    card = await tg.press(ADMIN_ID, "Включить")
    assert "blocked = false" in card.text
    card = await tg.press(ADMIN_ID, "К списку")
    assert "<b>#1</b> booked, customer" in card.text


async def test_templates_show_defaults_variables_and_start_a_rule(tg):
    listing = await tg.reply(ADMIN_ID, "/templates")
    assert "<code>payment_received</code> — Получена оплата" in listing
    answers = await tg.say(ADMIN_ID, "/templates payment_received")
    text = "".join(a.text for a in answers[:-1])
    assert "<b>email</b>" in text and "<b>sms</b>" in text and "subject = " in text
    assert "<code>{{ data.amount }}</code> → 5000" in text and "|money" in text
    card = await tg.press(ADMIN_ID, "Новое правило", message=answers[-1])
    assert "получатели" in card.text
    async with tg.storage.reader() as tx:
        key = [d async for d in _dialogues(tx)]
    assert key == ["payment_received"]
    assert await tg.reply(ADMIN_ID, "/templates nosuch") == "Типа nosuch нет. Список: /templates"
    assert "Event types" in (await tg.say(ADMIN_ID, "/templates", language="en"))[0].text


async def _dialogues(tx):
    from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey

    key = DefaultKeyBuilder(with_bot_id=True, with_destiny=True).build(
        StorageKey(bot_id=42, chat_id=ADMIN_ID, user_id=ADMIN_ID)
    )
    found = await tx.get_dialogue(key)
    if found is not None:
        yield found.data["draft"]["event"]


async def test_buttons_pressed_by_a_stranger_do_nothing(tg):
    await post_many(tg, 1)
    [card] = await tg.say(ADMIN_ID, "/journal")
    data = dict(buttons(card))["#1"]
    await tg.send(callback(STRANGER, card.message_id, data), STRANGER)
    assert tg.fake.answered[-1]["text"] == "Эта команда доступна только сотрудникам."
    await tg.send(callback(STRANGER, card.message_id, "rl:toggle:1"), STRANGER)
    async with tg.storage.reader() as tx:
        assert not (await tx.get_rule(1)).blocked


async def test_garbage_button_data_changes_nothing(tg):
    [card] = await tg.say(ADMIN_ID, "/journal")
    for data in (
        "jr:page:all:::x:0",
        "rl:open:abc",
        "wz:provider:email-99",
        "wz:nosuch:1",
        "sl:remove:0:notanumber",
        "tp:new:",
        "zz:what",
    ):
        await tg.send(callback(ADMIN_ID, card.message_id, data), ADMIN_ID)
    assert (await tg.say(ADMIN_ID, "/journal"))[0].text == "Ничего не найдено."  # still here
    assert not any("пошло не так" in a.get("text", "") for a in tg.fake.answered)
    async with tg.storage.reader() as tx:
        assert len(await tx.list_rules()) == 1 and await tx.list_stops() == []


async def test_a_long_row_and_a_long_rule_fit_their_card(tg):
    await tg.running.rules(
        CUSTOMER_EMAIL_RULE.replace('"booked, customer"', '"long"')
        + 'body = """'
        + "{{ data.note }} <это длинный шаблон>\n" * 120
        + '"""\n'
    )
    await tg.running.post(booked("long-1", data={"note": "очень длинный текст " * 2}))
    await tg.running.wait_rows(lambda rows: len(rows) == 2 and all(r.text for r in rows))
    [card] = await tg.say(ADMIN_ID, "/journal")
    row_card = await tg.press(ADMIN_ID, "#2")
    assert row_card.text.endswith("…") and "<b>event_id</b>" in row_card.text
    back = await tg.press(ADMIN_ID, "К списку")
    assert back.text, "the list comes back"
    [listing] = await tg.say(ADMIN_ID, "/rules")
    rule_card = await tg.press(ADMIN_ID, "#2 long", message=listing)
    assert "&lt;это длинный шаблон&gt;" in rule_card.text and rule_card.text.endswith("…")
