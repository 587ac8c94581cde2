"""Every text the bot says, in Russian and English, in one table.

``TEXTS[message_id][language]`` is a ``str.format`` template in Telegram HTML. :func:`t`
fills it, escaping every value (pass :class:`markupsafe.Markup` for a value that is already
HTML, such as a listing built from escaped lines). Russian is the default; English is used when
the user's Telegram language starts with ``en``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

TEXTS: dict[str, dict[str, str]] = {
    # customers: registration ----------------------------------------------------------------------
    "start.greeting": {
        "ru": "Здравствуйте, {name}!\n\nЯ присылаю уведомления о ваших заказах: запись на "
        "ремонт, напоминания, поступление запчастей, оплаты.\n\nЧтобы подписаться, "
        "нажмите кнопку <b>«Поделиться номером»</b> ниже — по номеру телефона я найду "
        "ваши заказы.",
        "en": "Hello, {name}!\n\nI send notifications about your orders: repair bookings, "
        "reminders, parts arrival, payments.\n\nTo subscribe, press <b>Share my phone "
        "number</b> below: your phone number is how I find your orders.",
    },
    "start.button": {"ru": "📱 Поделиться номером", "en": "📱 Share my phone number"},
    "start.private_only": {
        "ru": "Чтобы подписаться на уведомления, напишите мне в личные сообщения.",
        "en": "To subscribe to notifications, write to me in a private chat.",
    },
    "start.resumed": {
        "ru": "С возвращением! Уведомления снова включены. Отписаться: /stop",
        "en": "Welcome back! Notifications are on again. To opt out: /stop",
    },
    "contact.not_own": {
        "ru": "Принимаю только ваш собственный номер. Нажмите кнопку <b>«Поделиться "
        "номером»</b> — чужие контакты не подходят.",
        "en": "I only accept your own number. Press <b>Share my phone number</b>: other "
        "people's contacts are not accepted.",
    },
    "contact.bad_phone": {
        "ru": "Не удалось распознать номер {phone}. Обратитесь, пожалуйста, к менеджеру.",
        "en": "I could not read the number {phone}. Please contact your manager.",
    },
    "linked.customer": {
        "ru": "Готово! Номер {phone} подписан на уведомления.\n\nСюда будут приходить: "
        "подтверждение записи, напоминания о ремонте, сообщения о поступлении "
        "запчастей, об оплатах и готовности заказа.\n\nОтписаться: /stop · Помощь: /help",
        "en": "Done! The number {phone} is subscribed.\n\nYou will get here: booking "
        "confirmations, repair reminders, parts arrival, payments and order "
        "readiness.\n\nTo opt out: /stop · Help: /help",
    },
    "linked.deep_link": {
        "ru": "Готово, {name}! Вы подписаны на уведомления.\n\nСюда будут приходить: "
        "подтверждение записи, напоминания о ремонте, сообщения о поступлении "
        "запчастей, об оплатах и готовности заказа.\n\nОтписаться: /stop · Помощь: /help",
        "en": "Done, {name}! You are subscribed.\n\nYou will get here: booking "
        "confirmations, repair reminders, parts arrival, payments and order "
        "readiness.\n\nTo opt out: /stop · Help: /help",
    },
    "linked.staff": {
        "ru": "Вы опознаны как сотрудник: {name}. Служебные уведомления будут приходить сюда. "
        "Команды: /help",
        "en": "You are recognised as staff: {name}. Staff notifications will come here. "
        "Commands: /help",
    },
    "deep_link.invalid": {
        "ru": "Ссылка для подписки недействительна. Подпишитесь по номеру телефона: "
        "нажмите кнопку ниже.",
        "en": "This subscription link is not valid. Subscribe with your phone number: press "
        "the button below.",
    },
    "deep_link.expired": {
        "ru": "Срок действия ссылки истёк. Подпишитесь по номеру телефона: нажмите кнопку ниже.",
        "en": "This link has expired. Subscribe with your phone number: press the button below.",
    },
    "deep_link.used": {
        "ru": "Эта ссылка уже использована в другом чате. Подпишитесь по номеру телефона: "
        "нажмите кнопку ниже.",
        "en": "This link was already used in another chat. Subscribe with your phone number: "
        "press the button below.",
    },
    "stop.done": {
        "ru": "Вы отписались от уведомлений. Чтобы снова получать их, отправьте /start",
        "en": "You have opted out of notifications. To get them again, send /start",
    },
    "help.customer": {
        "ru": "Я присылаю уведомления о ваших заказах.\n\n/start — подписаться (или снова "
        "включить уведомления)\n/stop — отписаться\n/help — эта справка",
        "en": "I send notifications about your orders.\n\n/start — subscribe (or turn "
        "notifications back on)\n/stop — opt out\n/help — this help",
    },
    "help.staff": {
        "ru": "\n\n<b>Команды сотрудника</b>\n"
        "/journal — журнал с кнопками; /journal failed | today | телефон | "
        "номер заказа | id\n"
        "/resend id — отправить заново\n"
        "/stoplist — стоп-лист; /stoplist add телефон|email|id_клиента [тип|*] "
        "[канал|*] [причина]; /stoplist remove id\n"
        "/rules — правила с кнопками; /rules new — новое правило по шагам; "
        "/rules show|edit|copy|test|delete|block|unblock id (файл .toml — импорт)\n"
        "/templates [тип] — тексты по умолчанию и переменные\n"
        "/test канал адрес [провайдер] [текст] — тестовое сообщение\n"
        "/inbox — входящие\n/status — очередь и каналы\n"
        "/preview [часы] — что будет отправлено",
        "en": "\n\n<b>Staff commands</b>\n"
        "/journal — the journal with buttons; /journal failed | today | phone | "
        "order number | id\n"
        "/resend id — send again\n"
        "/stoplist — stop list; /stoplist add phone|email|customer_id [type|*] "
        "[channel|*] [reason]; /stoplist remove id\n"
        "/rules — rules with buttons; /rules new — a new rule step by step; "
        "/rules show|edit|copy|test|delete|block|unblock id (a .toml file imports)\n"
        "/templates [type] — default texts and variables\n"
        "/test channel address [provider] [text] — a test message\n"
        "/inbox — your inbox\n/status — queue and channels\n"
        "/preview [hours] — what goes out next",
    },
    "fallback": {
        "ru": "Я отправляю уведомления и не умею отвечать на сообщения. Справка: /help",
        "en": "I send notifications and cannot answer messages. Help: /help",
    },
    "staff.refused": {
        "ru": "Эта команда доступна только сотрудникам.",
        "en": "This command is available to staff only.",
    },
    # staff: /journal ------------------------------------------------------------------------------
    "journal.usage": {
        "ru": "Формат: /journal [failed | today | телефон | номер заказа | id]",
        "en": "Usage: /journal [failed | today | phone | order number | id]",
    },
    "journal.empty": {"ru": "Ничего не найдено.", "en": "Nothing found."},
    "journal.header": {"ru": "<b>Журнал: {what}</b>", "en": "<b>Journal: {what}</b>"},
    "journal.what.latest": {"ru": "последние", "en": "latest"},
    "journal.what.failed": {"ru": "с ошибкой", "en": "failed"},
    "journal.what.today": {"ru": "сегодня", "en": "today"},
    "journal.what.phone": {"ru": "телефон {value}", "en": "phone {value}"},
    "journal.what.order": {"ru": "заказ {value}", "en": "order {value}"},
    "journal.more": {
        "ru": "… показаны первые {shown}; уточните запрос.",
        "en": "… the first {shown} are shown; narrow the query.",
    },
    # staff: /resend -------------------------------------------------------------------------------
    "resend.usage": {"ru": "Формат: /resend id [now]", "en": "Usage: /resend id [now]"},
    "resend.scheduled": {
        "ru": "Уведомление #{id} ещё не отправлялось: оно запланировано на {due}. "
        "Отправить сейчас: /resend {id} now",
        "en": "Notification #{id} has not been sent yet: it is scheduled for {due}. "
        "To send it now: /resend {id} now",
    },
    "resend.done": {
        "ru": "Уведомление #{id} поставлено в очередь на отправку ({channel}, {address}).",
        "en": "Notification #{id} is queued to be sent again ({channel}, {address}).",
    },
    "resend.not_found": {
        "ru": "Уведомление #{id} не найдено или отправляется прямо сейчас.",
        "en": "Notification #{id} was not found or is being sent right now.",
    },
    # staff: /stoplist -----------------------------------------------------------------------------
    "stoplist.usage": {
        "ru": "Формат: /stoplist · /stoplist add телефон|email|id_клиента [тип|*] [канал|*] "
        "[причина] · /stoplist remove id",
        "en": "Usage: /stoplist · /stoplist add phone|email|customer_id [type|*] [channel|*] "
        "[reason] · /stoplist remove id",
    },
    "stoplist.empty": {"ru": "Стоп-лист пуст.", "en": "The stop list is empty."},
    "stoplist.header": {"ru": "<b>Стоп-лист</b>", "en": "<b>Stop list</b>"},
    "stoplist.added": {
        "ru": "Добавлено в стоп-лист: #{id} {who} · {event_type} · {channel}",
        "en": "Added to the stop list: #{id} {who} · {event_type} · {channel}",
    },
    "stoplist.removed": {"ru": "Запись #{id} удалена.", "en": "Entry #{id} removed."},
    "stoplist.not_found": {"ru": "Записи #{id} нет.", "en": "There is no entry #{id}."},
    "stoplist.bad_type": {
        "ru": "Тип события {value} не подходит: латиница, цифры и _, или *.",
        "en": "Event type {value} is not valid: lowercase letters, digits and _, or *.",
    },
    "stoplist.bad_channel": {
        "ru": "Канал {value} не подходит: {channels} или *.",
        "en": "Channel {value} is not valid: {channels} or *.",
    },
    # staff: /rules --------------------------------------------------------------------------------
    "rules.usage": {
        "ru": "Формат: /rules · /rules show|block|unblock id. Импорт: пришлите файл .toml.",
        "en": "Usage: /rules · /rules show|block|unblock id. Import: send a .toml file.",
    },
    "rules.empty": {
        "ru": "Правил нет. Администратор может прислать файл .toml с правилами.",
        "en": "There are no rules. An admin can send a .toml file with rules.",
    },
    "rules.header": {"ru": "<b>Правила</b>", "en": "<b>Rules</b>"},
    "rules.not_found": {"ru": "Правила {ref} нет.", "en": "There is no rule {ref}."},
    "rules.blocked": {"ru": "Правило «{name}» выключено.", "en": "Rule “{name}” is blocked."},
    "rules.unblocked": {"ru": "Правило «{name}» включено.", "en": "Rule “{name}” is unblocked."},
    "rules.imported": {
        "ru": "Правила импортированы: создано {created}, обновлено {updated}.",
        "en": "Rules imported: {created} created, {updated} updated.",
    },
    "rules.import_errors": {
        "ru": "Файл не импортирован, ошибки:\n{errors}",
        "en": "The file was not imported. Problems:\n{errors}",
    },
    "rules.not_toml": {
        "ru": "Пришлите файл с расширением .toml (до {limit} КБ) в кодировке UTF-8.",
        "en": "Send a file named *.toml (up to {limit} KB), UTF-8 encoded.",
    },
    # staff: /test ---------------------------------------------------------------------------------
    "test.usage": {
        "ru": "Формат: /test канал адрес [провайдер] [текст]; каналы: {channels}",
        "en": "Usage: /test channel address [provider] [text]; channels: {channels}",
    },
    "test.unavailable": {"ru": "Канал недоступен: {reason}", "en": "Channel unavailable: {reason}"},
    "test.bad_address": {"ru": "Неверный адрес: {reason}", "en": "Bad address: {reason}"},
    "test.sent": {"ru": "✅ Отправлено: {summary}", "en": "✅ Sent: {summary}"},
    "test.failed": {"ru": "❌ Не отправлено: {summary}", "en": "❌ Not sent: {summary}"},
    # staff: /inbox --------------------------------------------------------------------------------
    "inbox.no_staff": {
        "ru": "Входящие привязаны к сотруднику: поделитесь номером телефона через /start, "
        "чтобы я вас узнал.",
        "en": "The inbox belongs to a staff member: share your phone number via /start so I "
        "know who you are.",
    },
    "inbox.empty": {"ru": "Входящих нет.", "en": "Your inbox is empty."},
    "inbox.header": {"ru": "<b>Входящие</b>", "en": "<b>Inbox</b>"},
    # staff: /status -------------------------------------------------------------------------------
    # staff: /preview ------------------------------------------------------------------------------
    "preview.usage": {
        "ru": "Формат: /preview [часы] — что будет отправлено в ближайшие часы (по умолчанию 24)",
        "en": "Usage: /preview [hours] — what goes out in the next hours (default 24)",
    },
    "preview.header": {
        "ru": "<b>Будет отправлено за {hours} ч</b>",
        "en": "<b>Going out in the next {hours} h</b>",
    },
    "preview.empty": {
        "ru": "В ближайшие {hours} ч ничего не запланировано.",
        "en": "Nothing is planned for the next {hours} h.",
    },
    "preview.more": {
        "ru": "…показаны первые {shown}; подробнее: vestnik preview",
        "en": "…the first {shown} shown; more: vestnik preview",
    },
    "status.header": {"ru": "<b>Состояние</b>", "en": "<b>Status</b>"},
    "status.queue": {"ru": "Очередь", "en": "Queue"},
    "status.queue_empty": {"ru": "очередь пуста", "en": "the queue is empty"},
    "status.channels": {"ru": "Каналы", "en": "Channels"},
    "status.no_channels": {"ru": "каналы не настроены", "en": "no channels configured"},
    "status.last_error": {"ru": "последняя ошибка", "en": "last error"},
    # staff: /web --------------------------------------------------------------------------------
    "web.link": {
        "ru": "Ссылка для входа в веб-журнал (одноразовая, действует {minutes} мин):\n{url}",
        "en": "Your link to the web journal (one-time, valid for {minutes} min):\n{url}",
    },
    "web.disabled": {
        "ru": "Веб-журнал выключен (web.enabled = false).",
        "en": "The web journal is turned off (web.enabled = false).",
    },
    # internal channel: a staff inbox message forwarded to Telegram --------------------------------
    "internal.forward": {"ru": "📥 <b>{subject}</b>\n{text}", "en": "📥 <b>{subject}</b>\n{text}"},
    # command menus (set_my_commands) --------------------------------------------------------------
    "menu.start": {"ru": "Подписаться на уведомления", "en": "Subscribe to notifications"},
    "menu.stop": {"ru": "Отписаться", "en": "Opt out"},
    "menu.help": {"ru": "Справка", "en": "Help"},
    "menu.journal": {"ru": "Журнал уведомлений", "en": "Notification journal"},
    "menu.resend": {"ru": "Отправить заново: /resend id", "en": "Send again: /resend id"},
    "menu.stoplist": {"ru": "Стоп-лист", "en": "Stop list"},
    "menu.rules": {"ru": "Правила", "en": "Rules"},
    "menu.test": {"ru": "Тестовое сообщение", "en": "Send a test message"},
    "menu.inbox": {"ru": "Входящие", "en": "Inbox"},
    "menu.status": {"ru": "Очередь и каналы", "en": "Queue and channels"},
    "menu.preview": {"ru": "Что будет отправлено", "en": "What goes out next"},
    "menu.web": {"ru": "Ссылка на веб-журнал", "en": "A link to the web journal"},
    # generic --------------------------------------------------------------------------------------
    "error.internal": {
        "ru": "Что-то пошло не так, ошибка записана в журнал службы. Попробуйте ещё раз позже.",
        "en": "Something went wrong; the error was logged. Please try again later.",
    },
    "storage.down": {
        "ru": "База данных сейчас недоступна, попробуйте через минуту.",
        "en": "The database is unavailable right now, try again in a minute.",
    },
}


def language_of(code: str | None) -> str:
    """``en`` for an English Telegram client (``en``, ``en-US``...), else Russian."""
    return "en" if code and code.lower().startswith("en") else DEFAULT_LANGUAGE


def t(key: str, lang: str, /, **values: Any) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in, each HTML-escaped."""
    entry = TEXTS[key]
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    safe = {
        name: value if isinstance(value, Markup) else escape(value)
        for name, value in values.items()
    }
    return template.format(**safe)


def _merge() -> None:
    """Staff browsing and the rule wizard keep their texts in sibling modules."""
    from bot.core.staff_texts import STAFF_TEXTS
    from bot.core.wizard_texts import WIZARD_TEXTS

    TEXTS.update(STAFF_TEXTS)
    TEXTS.update(WIZARD_TEXTS)
    TEXTS["menu.templates"] = {"ru": "Шаблоны и переменные", "en": "Templates and variables"}


_merge()
# the conversations' texts live in their own table (bot/core/texts_conversations.py)
from bot.core.texts_conversations import CONVERSATION_TEXTS  # noqa: E402

TEXTS.update(CONVERSATION_TEXTS)
