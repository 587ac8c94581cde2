"""The texts of conversations (customers' answers, staff replies, /orders, /dialog) in Russian
and English; merged into :data:`bot.core.texts.TEXTS`, filled by :func:`bot.core.texts.t`,
which escapes every value, so a customer's name or text never becomes HTML."""

from __future__ import annotations

CONVERSATION_TEXTS: dict[str, dict[str, str]] = {
    # the header staff see above a customer's message ------------------------------------------
    "conv.customer": {
        "ru": "💬 <b>{name}</b>, {phone}, клиент {id}",
        "en": "💬 <b>{name}</b>, {phone}, customer {id}",
    },
    "conv.unregistered": {
        "ru": "💬 <b>{name}</b> — ⚠️ не зарегистрирован (не поделился номером), чат {chat}",
        "en": "💬 <b>{name}</b> — ⚠️ not registered (never shared a phone), chat {chat}",
    },
    "conv.sms_from": {"ru": "📱 SMS от {phone}", "en": "📱 SMS from {phone}"},
    "conv.sms_customer": {"ru": "клиент <b>{name}</b>, {id}", "en": "customer <b>{name}</b>, {id}"},
    "conv.sms_unknown": {
        "ru": "номер не найден среди клиентов",
        "en": "the number is not a known customer",
    },
    "conv.order": {
        "ru": "Заказ {number}: {status}; начало {start}, окончание {finish}",
        "en": "Order {number}: {status}; start {start}, finish {finish}",
    },
    "conv.no_order": {"ru": "Заказов не найдено", "en": "No orders known"},
    "conv.replied_to": {
        "ru": "↩️ Ответ на уведомление «{type}» (заказ {order}, журнал #{id})",
        "en": "↩️ Answer to the notification “{type}” (order {order}, journal #{id})",
    },
    "conv.caption": {"ru": "Подпись к вложению:", "en": "Caption of the attachment:"},
    "conv.topic_name": {"ru": "{name} {phone}", "en": "{name} {phone}"},
    # staff side --------------------------------------------------------------------------------
    "conv.delivered": {"ru": "✓ Отправлено клиенту", "en": "✓ Sent to the customer"},
    "conv.delivered_sms": {
        "ru": "✓ Отправлено по SMS ({segments} SMS, модем {modem})",
        "en": "✓ Sent by SMS ({segments} SMS, modem {modem})",
    },
    "conv.failed": {"ru": "✗ Не доставлено: {error}", "en": "✗ Not delivered: {error}"},
    "conv.sms_text_only": {
        "ru": "по SMS можно отправить только текст",
        "en": "only text can go by SMS",
    },
    "conv.no_modem": {
        "ru": "модем для ответа по SMS не настроен",
        "en": "no modem is configured to answer by SMS",
    },
    "conv.no_destination": {
        "ru": "не найден чат или номер клиента",
        "en": "the customer's chat or number is not known",
    },
    "conv.not_staff": {
        "ru": "Отвечать клиентам могут только сотрудники.",
        "en": "Only staff can answer customers.",
    },
    "conv.staff_hint": {
        "ru": "Чтобы ответить клиенту, ответьте (Reply) на его сообщение.",
        "en": "To answer a customer, reply to their message.",
    },
    "conv.nobody": {
        "ru": "Сообщение записано, но получателей среди сотрудников нет: задайте "
        "[conversations] staff_chat или telegram.admins.",
        "en": "The message was stored, but no staff chat receives it: set "
        "[conversations] staff_chat or telegram.admins.",
    },
    # customer side -----------------------------------------------------------------------------
    "conv.unregistered_ack": {
        "ru": "Передал ваше сообщение сотрудникам. Чтобы получать уведомления о заказах, "
        "поделитесь номером: /start. Справка: /help",
        "en": "I passed your message on to the staff. To get notifications about your "
        "orders, share your phone number: /start. Help: /help",
    },
    "conv.throttled": {
        "ru": "Вы отправили слишком много сообщений подряд. Следующие дойдут до нас через минуту.",
        "en": "You sent too many messages in a row. The next ones will reach us in a minute.",
    },
    # /orders ----------------------------------------------------------------------------------
    "orders.button": {"ru": "📋 Мои заказы", "en": "📋 My orders"},
    "orders.not_linked": {
        "ru": "Я пока не знаю ваш номер. Нажмите <b>«Поделиться номером»</b> — по нему я "
        "найду ваши заказы.",
        "en": "I do not know your number yet. Press <b>Share my phone number</b>: that is "
        "how I find your orders.",
    },
    "orders.none": {"ru": "Заказов пока нет.", "en": "No orders yet."},
    "orders.header": {"ru": "<b>Ваши заказы</b>", "en": "<b>Your orders</b>"},
    "orders.line": {
        "ru": "<b>{number}</b> — {status}\nначало: {start}, окончание: {finish}\n"
        "сумма: {amount}, оплачено: {paid}",
        "en": "<b>{number}</b> — {status}\nstart: {start}, finish: {finish}\n"
        "amount: {amount}, paid: {paid}",
    },
    "orders.unknown": {"ru": "—", "en": "—"},
    # /dialog ----------------------------------------------------------------------------------
    "dialog.usage": {
        "ru": "Использование: /dialog &lt;телефон или id клиента&gt;",
        "en": "Usage: /dialog &lt;phone or customer id&gt;",
    },
    "dialog.not_found": {"ru": "Клиент {who} не найден.", "en": "Customer {who} not found."},
    "dialog.empty": {
        "ru": "С клиентом {who} переписки и уведомлений нет.",
        "en": "No messages or notifications with customer {who}.",
    },
    "dialog.header": {
        "ru": "<b>Диалог с {who}</b> (новые внизу)",
        "en": "<b>Dialogue with {who}</b> (newest last)",
    },
    "dialog.in": {
        "ru": "{when} ← клиент ({channel}): {text}",
        "en": "{when} ← customer ({channel}): {text}",
    },
    "dialog.out": {
        "ru": "{when} → {staff} ({channel}, {status}): {text}",
        "en": "{when} → {staff} ({channel}, {status}): {text}",
    },
    "dialog.notification": {
        "ru": "{when} 🔔 {type} ({channel}, {status}) #{id}",
        "en": "{when} 🔔 {type} ({channel}, {status}) #{id}",
    },
    "dialog.more": {"ru": "… показаны последние {shown}", "en": "… the last {shown} shown"},
    "menu.orders": {"ru": "мои заказы", "en": "my orders"},
    "menu.dialog": {"ru": "переписка с клиентом", "en": "dialogue with a customer"},
}
