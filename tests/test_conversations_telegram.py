"""Conversations through the fake Bot API: customers' messages reach the staff (private chats,
a plain group, a forum supergroup), staff answers reach the customer, history, /orders,
/dialog, flood protection."""

# ruff: noqa: F811  (pytest fixtures imported by name)
from __future__ import annotations

import pytest

from tests.conftest import CUSTOMER_EMAIL_RULE
from tests.conversation_fixtures import (
    CUSTOMER,
    STAFF_CHAT,
    copies,
    register_customer,
    texts,
)
from tests.fakes.telegram_api import message
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)

STRANGER = 2002


@pytest.fixture
async def tg(bot_app, smtp):
    app = await bot_app()
    await register_customer(app)
    return app


async def history(app, key="C-001"):
    async with app.storage.reader() as tx:
        return list(reversed(await tx.list_conversation(customer_key=key)))


# customer -> staff (no staff_chat: the admins' private chats) -------------------------------------
async def test_customer_message_reaches_the_admin_with_context(tg):
    answered = await tg.say(CUSTOMER, "Можно приехать в 11 вместо 9?")
    assert answered == []  # no fallback text any more: a person will answer
    [header] = texts(tg.fake, ADMIN_ID)[-1:]
    assert "Иван Петров" in header.text and "+7 916 123-45-67" in header.text
    assert "C-001" in header.text and "ЗН-000123" in header.text and "27.11.2026" in header.text
    [copy] = copies(tg.fake, ADMIN_ID)
    assert copy.text == "Можно приехать в 11 вместо 9?" and copy.reply_to == header.message_id
    [stored] = await history(tg)
    assert (stored.direction, stored.status, stored.channel) == ("in", "delivered", "telegram")


async def test_admin_reply_goes_to_the_customer_and_is_confirmed(tg):
    await tg.say(CUSTOMER, "Можно в 11?")
    [copy] = copies(tg.fake, ADMIN_ID)
    reply = message(
        ADMIN_ID, "Да, ждём в 11", reply_to_message=tg.fake.messages[(ADMIN_ID, copy.message_id)]
    )
    [confirmation] = await tg.send(reply, ADMIN_ID)
    assert confirmation.text == "✓ Отправлено клиенту"
    [delivered] = copies(tg.fake, CUSTOMER)
    assert delivered.text == "Да, ждём в 11"
    first, answer = await history(tg)
    assert delivered.reply_to == int(first.source_message)
    assert (answer.direction, answer.status, answer.staff_user_id) == ("out", "delivered", ADMIN_ID)
    assert answer.delivered_message == delivered.message_id


async def test_a_failed_answer_shows_the_telegram_error(tg):
    await tg.say(CUSTOMER, "Алло")
    [copy] = copies(tg.fake, ADMIN_ID)
    tg.fake.fail_chat(CUSTOMER, 403, "Forbidden: bot was blocked by the user")
    reply = message(
        ADMIN_ID, "Ответ", reply_to_message=tg.fake.messages[(ADMIN_ID, copy.message_id)]
    )
    [confirmation] = await tg.send(reply, ADMIN_ID)
    assert confirmation.text.startswith("✗ Не доставлено:") and "blocked" in confirmation.text
    assert (await history(tg))[-1].status == "failed"


async def test_an_unregistered_chat_is_forwarded_marked(tg):
    await tg.say(STRANGER, "Сколько стоит замена масла?", first_name="Пётр")
    header = texts(tg.fake, ADMIN_ID)[-1]
    assert "не зарегистрирован" in header.text and "Пётр" in header.text
    assert copies(tg.fake, ADMIN_ID)[-1].text == "Сколько стоит замена масла?"
    assert (await history(tg, f"chat:{STRANGER}"))[0].customer_id is None


async def test_a_reply_to_a_notification_names_it(bot_app, smtp):
    app = await bot_app()
    await app.running.rules(
        '[[rules]]\nname = "tg"\nevent = "order_booked"\n'
        'recipients = ["customer"]\nchannels = ["telegram"]\n'
    )
    await register_customer(app)
    from tests.conftest import booked

    await app.running.post(booked("conv-2"))
    note = (
        await app.fake.wait_sent(
            chat_id=CUSTOMER, count=1, predicate=lambda s: "ЗН-000123" in s.text
        )
    )[-1]
    answer = message(
        CUSTOMER, "А можно позже?", reply_to_message=app.fake.messages[(CUSTOMER, note.message_id)]
    )
    await app.send(answer, CUSTOMER)
    header = texts(app.fake, ADMIN_ID)[-1]
    assert "Ответ на уведомление «order_booked»" in header.text
    assert (await history(app))[-1].reply_to_journal_id is not None


async def test_html_from_a_customer_is_never_rendered(tg):
    await tg.say(STRANGER, "<b>x</b> {{ secret }}", first_name="<i>Зло</i>")
    header = texts(tg.fake, ADMIN_ID)[-1]
    assert "&lt;i&gt;Зло&lt;/i&gt;" in header.text and "<i>" not in header.text
    copy = copies(tg.fake, ADMIN_ID)[-1]
    assert copy.text == "<b>x</b> {{ secret }}" and copy.fields.get("parse_mode") is None


async def test_media_are_copied_and_a_long_caption_follows_as_text(tg):
    photo = [{"file_id": "ph1", "file_unique_id": "ph1", "width": 90, "height": 90}]
    await tg.send(message(CUSTOMER, None, photo=photo, caption="Вот так"), CUSTOMER)
    copy = copies(tg.fake, ADMIN_ID)[-1]
    assert copy.text == "Вот так" and "caption" not in copy.fields
    assert not tg.fake.calls("getFile")  # copied by Telegram, never downloaded
    long = "ц" * 2000
    await tg.send(
        message(CUSTOMER, None, document={"file_id": "d1", "file_unique_id": "d1"}, caption=long),
        CUSTOMER,
    )
    copy = copies(tg.fake, ADMIN_ID)[-1]
    assert copy.fields["caption"] == "ц" * 1000 + "…"
    follow = texts(tg.fake, ADMIN_ID)[-1]
    assert follow.text == long and follow.reply_to == copy.message_id
    assert follow.fields.get("parse_mode") is None


async def test_flooding_customer_is_throttled_with_one_notice(bot_app, smtp):
    app = await bot_app(conversations={"flood_per_minute": 2})
    await register_customer(app)
    assert await app.say(CUSTOMER, "1") == [] and await app.say(CUSTOMER, "2") == []
    [notice] = await app.say(CUSTOMER, "3")
    assert "слишком много" in notice.text
    assert await app.say(CUSTOMER, "4") == []
    assert [c.text for c in copies(app.fake, ADMIN_ID)] == ["1", "2"]
    assert [m.status for m in await history(app)] == [
        "delivered",
        "delivered",
        "throttled",
        "throttled",
    ]


async def test_a_repeated_update_is_handled_once(tg):
    update = message(CUSTOMER, "Один раз")
    await tg.send(update, CUSTOMER)
    await tg.send(update, CUSTOMER)  # Telegram delivers it again
    assert [c.text for c in copies(tg.fake, ADMIN_ID)] == ["Один раз"]


# a plain staff group -----------------------------------------------------------------------------
async def test_plain_group_header_copy_and_who_may_answer(bot_app, smtp):
    app = await bot_app(conversations={"staff_chat": STAFF_CHAT})
    await register_customer(app)
    await app.say(CUSTOMER, "Вопрос")
    header = texts(app.fake, STAFF_CHAT)[-1]
    [copy] = copies(app.fake, STAFF_CHAT)
    assert "Иван Петров" in header.text and copy.reply_to == header.message_id
    assert not app.fake.calls("createForumTopic") and copies(app.fake, ADMIN_ID) == []
    source = app.fake.messages[(STAFF_CHAT, copy.message_id)]
    [refusal] = await app.send(
        message(STAFF_CHAT, "я не сотрудник", from_id=STRANGER, reply_to_message=source), STAFF_CHAT
    )
    assert refusal.text == "Отвечать клиентам могут только сотрудники."
    assert copies(app.fake, CUSTOMER) == []
    app.fake.members[(STAFF_CHAT, STRANGER)] = "creator"  # the group's owner is staff
    [ok] = await app.send(
        message(STAFF_CHAT, "Ответ владельца", from_id=STRANGER, reply_to_message=source),
        STAFF_CHAT,
    )
    assert ok.text == "✓ Отправлено клиенту"
    assert copies(app.fake, CUSTOMER)[-1].text == "Ответ владельца"
    # staff talking among themselves is not sent anywhere
    assert (
        await app.send(message(STAFF_CHAT, "коллеги, кто возьмёт?", from_id=ADMIN_ID), STAFF_CHAT)
        == []
    )


async def test_staff_commands_work_in_the_staff_chat(bot_app, smtp):
    app = await bot_app(conversations={"staff_chat": STAFF_CHAT})
    await register_customer(app)
    answer = await app.reply(STAFF_CHAT, "/journal", from_id=ADMIN_ID)
    assert "только сотрудникам" not in answer
    assert "только сотрудникам" in await app.reply(STAFF_CHAT, "/journal", from_id=STRANGER)


# a forum supergroup ------------------------------------------------------------------------------
async def test_forum_topic_per_customer_answers_and_a_deleted_topic(bot_app, smtp):
    app = await bot_app(conversations={"staff_chat": STAFF_CHAT})
    app.fake.make_forum(STAFF_CHAT)
    await register_customer(app)
    await app.say(CUSTOMER, "Первое")
    await app.say(CUSTOMER, "Второе")
    [created] = app.fake.calls("createForumTopic")
    assert created["name"] == "Иван Петров +7 916 123-45-67"
    thread = copies(app.fake, STAFF_CHAT)[0].thread_id
    assert thread and all(s.thread_id == thread for s in app.fake.to(STAFF_CHAT))
    assert len(texts(app.fake, STAFF_CHAT)) == 1  # the header once: the context did not change
    # any message in the topic answers the customer, no reply needed
    staff = message(
        STAFF_CHAT,
        "Ждём вас",
        from_id=ADMIN_ID,
        message_thread_id=thread,
        is_topic_message=True,
        chat_type="supergroup",
    )
    [ok] = await app.send(staff, STAFF_CHAT)
    assert ok.text == "✓ Отправлено клиенту" and ok.thread_id == thread
    assert copies(app.fake, CUSTOMER)[-1].text == "Ждём вас"
    # staff deleted the topic: the next message creates it again
    app.fake.delete_topic(STAFF_CHAT, thread)
    await app.say(CUSTOMER, "Третье")
    assert len(app.fake.calls("createForumTopic")) == 2
    last = copies(app.fake, STAFF_CHAT)[-1]
    assert last.text == "Третье" and last.thread_id != thread
    async with app.storage.reader() as tx:
        topic = await tx.get_topic(STAFF_CHAT, "C-001")
    assert topic.thread_id == last.thread_id


# /orders and /dialog -----------------------------------------------------------------------------
async def test_orders_for_a_linked_customer_and_how_to_link(tg):
    [answer] = await tg.say(CUSTOMER, "/orders")
    assert "ЗН-000123" in answer.text and "27.11.2026 09:00" in answer.text
    assert "15 000.00 RUB" in answer.text
    assert answer.reply_markup["keyboard"][0][0]["text"] == "📋 Мои заказы"
    [button] = await tg.say(CUSTOMER, "📋 Мои заказы")
    assert "ЗН-000123" in button.text
    [english] = await tg.say(CUSTOMER, "/orders", language="en")
    assert "Your orders" in english.text and "Work order booked" in english.text
    [unlinked] = await tg.say(STRANGER, "/orders")
    assert "Поделиться номером" in unlinked.text
    assert unlinked.reply_markup["keyboard"][0][0]["request_contact"] is True


async def test_dialog_shows_messages_and_notifications(bot_app, smtp):
    tg = await bot_app()
    await tg.running.rules(CUSTOMER_EMAIL_RULE)
    await register_customer(tg)
    await tg.running.wait_rows(lambda rows: any(r.status == "sent" for r in rows))
    await tg.say(CUSTOMER, "Когда готово?")
    [copy] = copies(tg.fake, ADMIN_ID)
    await tg.send(
        message(ADMIN_ID, "Завтра", reply_to_message=tg.fake.messages[(ADMIN_ID, copy.message_id)]),
        ADMIN_ID,
    )
    answer = await tg.reply(ADMIN_ID, "/dialog +7 916 123-45-67")
    assert "Диалог с Иван Петров" in answer
    assert answer.index("Когда готово?") < answer.index("Завтра")
    assert "🔔" in answer  # the e-mail notification of the booking
    assert "не найден" in await tg.reply(ADMIN_ID, "/dialog +7 999 000-00-00")
    assert "Использование" in await tg.reply(ADMIN_ID, "/dialog")
    assert "только сотрудникам" in await tg.reply(STRANGER, "/dialog C-001")


async def test_without_staff_chat_the_order_manager_gets_it_not_the_admins(tg):
    from tests.fakes.telegram_api import contact

    olga = 3001  # manager S-7 of the order, phone +7 916 000-00-07 in booked()
    await tg.send(contact(olga, "+79160000007", user_id=olga), olga)
    await tg.say(CUSTOMER, "Вопрос менеджеру")
    assert [c.text for c in copies(tg.fake, olga)] == ["Вопрос менеджеру"]
    assert copies(tg.fake, ADMIN_ID) == []
    [copy] = copies(tg.fake, olga)
    reply = message(olga, "Отвечаю", reply_to_message=tg.fake.messages[(olga, copy.message_id)])
    [ok] = await tg.send(reply, olga)
    assert ok.text == "✓ Отправлено клиенту"
    assert (await history(tg))[-1].staff_name == "Ольга"


async def test_customer_texts_follow_their_language(tg):
    [ack] = await tg.say(STRANGER, "hello", language="en")
    assert ack.text.startswith("I passed your message on to the staff")
    [ack_ru] = await tg.say(STRANGER + 1, "привет")
    assert ack_ru.text.startswith("Передал ваше сообщение сотрудникам")


async def test_the_customer_time_line_over_http(tg):
    await tg.say(CUSTOMER, "Когда готово?")
    base = tg.running.url + "/conversations"
    async with tg.running.session.get(base, params={"customer": "+7 916 123-45-67"}) as r:
        assert r.status == 200
        [entry] = [e for e in await r.json() if e["entry"] == "message"]
    assert (entry["text"], entry["direction"], entry["customer_key"]) == (
        "Когда готово?",
        "in",
        "C-001",
    )
    async with tg.running.session.get(base, params={"customer": "C-404"}) as r:
        assert r.status == 404 and "not found" in (await r.json())["error"]
    async with tg.running.session.get(base, params={"limit": "x"}) as r:
        assert r.status == 400
    async with tg.running.session.get(base) as r:
        assert [m["text"] for m in await r.json()] == ["Когда готово?"]


async def test_a_staff_chat_the_bot_cannot_post_to_falls_back_to_the_admins(bot_app, smtp):
    app = await bot_app(conversations={"staff_chat": STAFF_CHAT})
    await register_customer(app)
    app.fake.fail_chat(STAFF_CHAT, 403, "Forbidden: bot was kicked from the group chat")
    await app.say(CUSTOMER, "Есть кто?")
    assert [c.text for c in copies(app.fake, ADMIN_ID)] == ["Есть кто?"]
    [stored] = await history(app)
    assert stored.status == "delivered" and "kicked" in stored.error
