"""The rule wizard in the chat (/rules new, edit, copy), driven through the fake Bot API with
button presses and typed answers: a rule made in the chat fires on a posted event; problems
are shown on their step; the dialogue lives in the database (restart, a second process on
PostgreSQL, expiry); only admins and rule editors change rules."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE, booked
from tests.fakes.telegram_api import buttons, callback, contact
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)

OLGA = 3001  # staff S-7, phone +7 916 000-00-07 in booked()


@pytest.fixture
async def tg(bot_app, smtp):
    app = await bot_app()
    await app.running.rules(CUSTOMER_EMAIL_RULE)
    return app


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


async def create_booked_rule(tg, chat: int = ADMIN_ID) -> object:
    """Event -> recipients -> channels, up to the filters step; returns the card."""
    card = (await tg.say(chat, "/rules new"))[-1]
    assert "шаг 1 из" in card.text and "событие" in card.text
    card = await tg.press(chat, "Заказы и ремонт")
    card = await tg.press(chat, "Заказ-наряд записан на ремонт")
    assert "получатели" in card.text
    card = await tg.press(chat, "Клиент")
    assert "✅ Клиент" in [text for text, _ in buttons(card)]
    card = await tg.press(chat, "Дальше")
    assert "каналы" in card.text
    card = await tg.press(chat, "email")
    card = await tg.press(chat, "Дальше")
    assert "фильтры" in card.text  # one e-mail account, no anchor: providers and timing skipped
    return card


async def test_a_rule_created_in_the_chat_fires_on_a_posted_event(tg, smtp):
    await create_booked_rule(tg)
    await tg.press(ADMIN_ID, "Добавить условие")
    await tg.press(ADMIN_ID, "vehicle.make")
    prompt = await tg.press(ADMIN_ID, "равно")
    assert "напишите значение" in prompt.text
    [card] = await tg.say(ADMIN_ID, "Lada")
    assert "vehicle.make = Lada" in card.text and "фильтры" in card.text
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "текст" in card.text and "Так увидит получатель (email)" in card.text
    await tg.press(ADMIN_ID, "Свой текст")
    [card] = await tg.say(
        ADMIN_ID, "Здравствуйте, {{ customer.name }}! Заказ {{ order.number }} принят."
    )
    assert "Здравствуйте, Иван Петров! Заказ ЗН-000123 принят." in card.text  # the sample
    await tg.press(ADMIN_ID, "Дальше")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "проверьте и сохраните" in card.text and "Условия: vehicle.make = Lada" in card.text
    saved = await tg.press(ADMIN_ID, "💾 Сохранить")
    assert "✅ Правило #2" in saved.text
    await tg.running.post(booked("w-1"))
    await tg.running.post(booked("w-2", vehicle={"make": "Kia"}))
    rows = await tg.running.wait_rows(
        lambda rows: len(rows) == 3 and all(r.status == "sent" for r in rows)
    )
    mine = [r for r in rows if r.rule.startswith("Заказ-наряд записан на ремонт")]
    assert [r.event_id for r in mine] == ["w-1"]  # the filter kept the Kia out
    assert mine[0].text == "Здравствуйте, Иван Петров! Заказ ЗН-000123 принят."
    shown = await tg.reply(ADMIN_ID, "/rules show 2")
    assert "создано · telegram:500" in shown


async def test_an_invalid_filter_value_is_shown_on_its_step_and_typed_again(tg):
    await create_booked_rule(tg)
    await tg.press(ADMIN_ID, "Добавить условие")
    await tg.press(ADMIN_ID, "order.amount")
    await tg.press(ADMIN_ID, "не меньше")
    [card] = await tg.say(ADMIN_ID, "много")
    assert "фильтры" in card.text and "Исправьте" in card.text
    assert "для «не меньше/не больше» нужно число или дата" in card.text and "много" in card.text
    [card] = await tg.say(ADMIN_ID, "10 000")  # still asked for the value: typed again
    assert "order.amount ≥ 10000" in card.text and "Исправьте" not in card.text
    for _ in range(3):
        await tg.press(ADMIN_ID, "Дальше")
    saved = await tg.press(ADMIN_ID, "💾 Сохранить")
    assert "сохранено" in saved.text
    async with tg.storage.reader() as tx:
        rule = await tx.get_rule(2)
    assert rule.definition["filters"] == {"order.amount": {"gte": 10000}}


async def test_a_bad_template_is_shown_on_the_template_step(tg):
    await create_booked_rule(tg)
    await tg.press(ADMIN_ID, "Дальше")
    await tg.press(ADMIN_ID, "Свой текст")
    [card] = await tg.say(ADMIN_ID, "Заказ {% if order.number %}")
    assert "текст" in card.text and "Исправьте" in card.text and "ошибка в шаблоне" in card.text
    assert "Текст: по умолчанию" in card.text  # nothing was taken


async def test_a_save_problem_sends_the_user_to_its_step(tg):
    """recipients customer + channel internal: refused by the rule validation at Save."""
    await tg.say(ADMIN_ID, "/rules new")
    await tg.press(ADMIN_ID, "Оплаты и счета")
    await tg.press(ADMIN_ID, "Получена оплата")
    await tg.press(ADMIN_ID, "Клиент")
    await tg.press(ADMIN_ID, "Дальше")
    await tg.press(ADMIN_ID, "internal")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "каналы" in card.text and "канал internal — только для сотрудников" in card.text
    await tg.press(ADMIN_ID, "internal")
    await tg.press(ADMIN_ID, "telegram")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "фильтры" in card.text


async def test_timing_before_typed_and_working_days(tg):
    await tg.say(ADMIN_ID, "/rules new")
    await tg.press(ADMIN_ID, "Заказы и ремонт")
    await tg.press(ADMIN_ID, "Напоминание о начале ремонта")
    await tg.press(ADMIN_ID, "Клиент")
    await tg.press(ADMIN_ID, "Дальше")
    await tg.press(ADMIN_ID, "email")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "время" in card.text and "order.planned_start" in card.text
    await tg.press(ADMIN_ID, "Ввести")
    [card] = await tg.say(ADMIN_ID, "за полчаса")
    assert "Исправьте" in card.text and "«полчаса» — не длительность" in card.text
    await tg.press(ADMIN_ID, "Ввести", message=card)
    [card] = await tg.say(ADMIN_ID, "за 90m")
    assert "Сейчас: за 90m" in card.text and "Исправьте" not in card.text
    # back to the event, a type timed by working days
    for _ in range(3):
        card = await tg.press(ADMIN_ID, "Назад")
    await tg.press(ADMIN_ID, "Оплаты и счета")
    card = await tg.press(ADMIN_ID, "Счёт не оплачен")
    for _ in range(2):
        card = await tg.press(ADMIN_ID, "Дальше")
    assert "время" in card.text and "через 3 раб. дн." in card.text
    card = await tg.press(ADMIN_ID, "через 5 раб. дн.")
    assert "✅ через 5 раб. дн." in [text for text, _ in buttons(card)]
    for _ in range(4):
        card = await tg.press(ADMIN_ID, "Дальше")
    assert "Время: через 5 раб. дн." in card.text
    await tg.press(ADMIN_ID, "💾 Сохранить")
    async with tg.storage.reader() as tx:
        rule = await tx.get_rule(2)
    assert rule.definition["working_days"] == 5 and "before" not in rule.definition


async def test_providers_step_when_several_are_configured(bot_app, smtp):
    account = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "tls": "none",
        "from_address": "service@example.ru",
        "timeout": 5,
    }
    tg = await bot_app(
        email={"accounts": [{"name": "main", **account}, {"name": "billing", **account}]}
    )
    await tg.say(ADMIN_ID, "/rules new")
    await tg.press(ADMIN_ID, "Оплаты и счета")
    await tg.press(ADMIN_ID, "Получена оплата")
    await tg.press(ADMIN_ID, "Менеджер")
    await tg.press(ADMIN_ID, "Дальше")
    await tg.press(ADMIN_ID, "email")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "провайдеры" in card.text and "email: любой настроенный" in card.text
    card = await tg.press(ADMIN_ID, "email: billing")
    assert "email: billing" in card.text
    for _ in range(4):
        card = await tg.press(ADMIN_ID, "Дальше")
    assert "Провайдеры: email: billing" in card.text
    await tg.press(ADMIN_ID, "💾 Сохранить")
    async with tg.storage.reader() as tx:
        [rule] = await tx.list_rules()
    assert rule.definition["email_account"] == "billing"


async def test_cancel_saves_nothing_and_old_buttons_say_so(tg):
    card = await create_booked_rule(tg)
    done = await tg.press(ADMIN_ID, "Отмена")
    assert "ничего не сохранено" in done.text
    # a button of the finished dialogue, pressed late
    await tg.send(callback(ADMIN_ID, card.message_id, "wz:back:"), ADMIN_ID)
    assert "уже закончен или устарел" in tg.fake.answered[-1]["text"]
    async with tg.storage.reader() as tx:
        assert len(await tx.list_rules()) == 1


async def test_edit_copy_and_delete_keep_a_history(tg):
    card = (await tg.say(ADMIN_ID, "/rules edit 1"))[-1]
    assert "Правило #1" in card.text and "проверьте и сохраните" in card.text
    await tg.press(ADMIN_ID, "название и режим")
    await tg.press(ADMIN_ID, "Название")
    [card] = await tg.say(ADMIN_ID, "запись, клиенту")
    card = await tg.press(ADMIN_ID, "Готово", message=card)
    assert "Название: запись, клиенту" in card.text
    await tg.press(ADMIN_ID, "💾 Сохранить")
    async with tg.storage.reader() as tx:
        [rule] = await tx.list_rules()
    assert rule.id == 1 and rule.name == "запись, клиенту"  # renamed in place

    await tg.say(ADMIN_ID, "/rules copy 1")
    saved = await tg.press(ADMIN_ID, "💾 Сохранить")
    assert "#2 «запись, клиенту (2)»" in saved.text

    card = (await tg.say(ADMIN_ID, "/rules delete 2"))[-1]
    assert "Удалить правило «запись, клиенту (2)»?" in card.text
    done = await tg.press(ADMIN_ID, "Да, удалить")
    assert "удалено" in done.text
    await tg.say(ADMIN_ID, "/rules block 1")
    shown = plain(await tg.reply(ADMIN_ID, "/rules show 1"))
    assert re.search(r"\d\d\.\d\d \d\d:\d\d · выключено · telegram:500", shown)
    assert "изменено · telegram:500" in shown
    async with tg.storage.reader() as tx:
        assert [r.id for r in await tx.list_rules()] == [1]


async def test_rules_test_previews_to_the_staff_member_only(tg, smtp):
    answers = await tg.say(ADMIN_ID, "/rules test 1")
    assert "пример события" in answers[0].text and "Отправлено только вам" in answers[0].text
    assert "Иван Петров" in answers[1].text and "(email)" in answers[1].text
    await tg.running.post(
        booked("t-1", customer={"id": "C-9", "name": "Анна Кузнецова", "email": "anna@example.ru"})
    )
    await tg.running.wait_rows(lambda rows: rows and rows[0].status == "sent")
    answers = await tg.say(ADMIN_ID, "/rules test 1")
    assert "последнее событие t-1" in answers[0].text and "Анна Кузнецова" in answers[1].text
    assert len(smtp.recorder.by_recipient("anna@example.ru")) == 1  # the test sent nothing


async def test_a_non_editor_may_look_but_not_change(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(CUSTOMER_EMAIL_RULE)
    await tg.running.post(booked("n-1"))
    await tg.send(contact(OLGA, "+79160000007", user_id=OLGA), OLGA)
    refused = "Менять правила могут администраторы и сотрудники из telegram.rule_editors."
    for command in (
        "/rules new",
        "/rules edit 1",
        "/rules copy 1",
        "/rules delete 1",
        "/rules block 1",
    ):
        assert await tg.reply(OLGA, command) == refused, command
    card = (await tg.say(OLGA, "/rules"))[-1]
    card = await tg.press(OLGA, "#1", message=card)
    assert "name = &#34;booked, customer&#34;" in card.text  # she may look
    await tg.press(OLGA, "Выключить", message=card)
    assert refused in tg.fake.edits[-1].text
    assert "Отправлено только вам" in await tg.reply(OLGA, "/rules test 1")  # and test
    async with tg.storage.reader() as tx:
        assert not (await tx.get_rule(1)).blocked


@pytest.mark.parametrize("editors", [[OLGA], "staff"])
async def test_rule_editors_may_change_rules(bot_app, smtp, editors):
    tg = await bot_app(telegram={"rule_editors": editors})
    await tg.running.rules(CUSTOMER_EMAIL_RULE)
    await tg.running.post(booked("e-1"))
    await tg.send(contact(OLGA, "+79160000007", user_id=OLGA), OLGA)
    assert await tg.reply(OLGA, "/rules block 1") == "Правило «booked, customer» выключено."
    shown = plain(await tg.reply(OLGA, "/rules show 1"))
    assert "выключено · S-7" in shown  # the author is the ERP's staff id


async def test_the_run_shown_in_the_docs(tg):
    """docs/bot-staff.md and the README show this dialogue; keep them true."""
    card = (await tg.say(ADMIN_ID, "/rules new"))[-1]
    assert "шаг 1 из 6: событие" in card.text
    await tg.press(ADMIN_ID, "Оплаты и счета")
    card = await tg.press(ADMIN_ID, "Получена оплата")
    assert "шаг 2 из 6: получатели" in card.text
    await tg.press(ADMIN_ID, "Клиент")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "шаг 3 из 6: каналы" in card.text
    await tg.press(ADMIN_ID, "telegram")
    await tg.press(ADMIN_ID, "sms")
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "шаг 4 из 6: фильтры" in card.text
    await tg.press(ADMIN_ID, "Добавить условие")
    await tg.press(ADMIN_ID, "data.amount")
    prompt = await tg.press(ADMIN_ID, "не меньше")
    assert (
        "Поле data.amount, не меньше: напишите значение (несколько — через запятую)." in prompt.text
    )
    [card] = await tg.say(ADMIN_ID, "много")
    assert (
        "filters: data.amount: для «не меньше/не больше» нужно число или дата (2026-11-25), а не"
        in plain(card.text)
    )
    [card] = await tg.say(ADMIN_ID, "1000")
    assert "data.amount ≥ 1000" in card.text
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "шаг 5 из 6: текст" in card.text and "Оплата получена, спасибо!" in card.text
    card = await tg.press(ADMIN_ID, "👁 sms")
    assert "Получена оплата 5\xa0000,00\xa0₽ по заказу №ЗН-000123. Спасибо!" in card.text
    assert "SMS: 1 шт., UCS-2, 57 симв. (по 70 в части)" in card.text
    card = await tg.press(ADMIN_ID, "Дальше")
    assert "шаг 6 из 6: название и режим" in card.text
    assert "Получена оплата, customer" in card.text
    card = await tg.press(ADMIN_ID, "Дальше")
    for line in (
        "Событие: Получена оплата (payment_received)",
        "Получатели: customer",
        "Каналы: telegram → sms (первый доступный канал)",
        "Условия: data.amount ≥ 1000",
        "Тихие часы: да · выключено: нет",
    ):
        assert line in card.text, line
    saved = await tg.press(ADMIN_ID, "💾 Сохранить")
    assert "✅ Правило #2 «Получена оплата, customer» сохранено." in saved.text
    assert labels_of(saved) == ["📄 Открыть", "🧪 Проверить"]


def labels_of(sent) -> list[str]:
    return [text for text, _ in buttons(sent)]


async def test_a_step_left_empty_says_so_in_the_users_language(tg):
    card = (await tg.say(ADMIN_ID, "/rules new", language="en"))[-1]
    card = await tg.press(ADMIN_ID, "Next", language="en")
    assert "step 1 of" in card.text and "choose an event type" in card.text
    await tg.press(ADMIN_ID, "Orders and repair", language="en")
    await tg.press(ADMIN_ID, "Work order booked", language="en")
    card = await tg.press(ADMIN_ID, "Next", language="en")
    assert "recipients" in card.text and "tick at least one recipient" in card.text
    await tg.press(ADMIN_ID, "Customer", language="en")
    await tg.press(ADMIN_ID, "Next", language="en")
    card = await tg.press(ADMIN_ID, "Next")  # the Russian client sees Russian
    assert "выберите хотя бы один канал" in card.text


async def test_an_english_client_sees_the_import_wording(tg):
    await tg.say(ADMIN_ID, "/rules new", language="en")
    await tg.press(ADMIN_ID, "Payments and invoices", language="en")
    await tg.press(ADMIN_ID, "Payment received", language="en")
    await tg.press(ADMIN_ID, "Customer", language="en")
    await tg.press(ADMIN_ID, "Next", language="en")
    await tg.press(ADMIN_ID, "email", language="en")
    await tg.press(ADMIN_ID, "Next", language="en")
    await tg.press(ADMIN_ID, "Add a condition", language="en")
    await tg.press(ADMIN_ID, "data.amount", language="en")
    await tg.press(ADMIN_ID, "at most", language="en")
    [card] = await tg.say(ADMIN_ID, "lots", language="en")
    assert "Please fix" in card.text
    assert "filters: data.amount: lte takes a number or an ISO date (2026-11-25), not" in card.text
