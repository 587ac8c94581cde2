"""Every text of the managers' web pages, in Russian and English, in one table.

``WEB_TEXTS[key][language]`` is a ``str.format`` template of plain text: the page templates
escape what they show. Russian is the default; English comes from the browser's language or
the switch in the page header.
"""

from __future__ import annotations

from typing import Any

WEB_LANGUAGES = ("ru", "en")

WEB_TEXTS: dict[str, dict[str, str]] = {
    "app.title": {"ru": "Вестник", "en": "Vestnik"},
    "nav.journal": {"ru": "Журнал", "en": "Journal"},
    "nav.stoplist": {"ru": "Стоп-лист", "en": "Stop list"},
    "nav.rules": {"ru": "Правила", "en": "Rules"},
    "nav.status": {"ru": "Состояние", "en": "Status"},
    "nav.logout": {"ru": "Выйти", "en": "Log out"},
    "nav.language": {"ru": "English", "en": "Русский"},
    # login ------------------------------------------------------------------------------------
    "login.title": {"ru": "Вход через бота", "en": "Log in from the bot"},
    "login.how": {
        "ru": "Чтобы открыть журнал, отправьте боту в Telegram команду /web — он пришлёт "
        "одноразовую ссылку для входа (действует 10 минут). Администратор сервера может "
        "получить ссылку командой «vestnik web-login».",
        "en": "To open the journal, send /web to the bot in Telegram: it answers with a "
        "one-time login link (valid for 10 minutes). The server's operator can get a "
        "link with `vestnik web-login`.",
    },
    "login.invalid": {
        "ru": "Ссылка для входа недействительна.",
        "en": "This login link is not valid.",
    },
    "login.expired": {
        "ru": "Срок действия ссылки истёк. Получите новую командой /web.",
        "en": "This login link has expired. Get a new one with /web.",
    },
    "login.used": {
        "ru": "Эта ссылка уже использована. Получите новую командой /web.",
        "en": "This login link was already used. Get a new one with /web.",
    },
    "login.not_staff": {"ru": "Вход разрешён только сотрудникам.", "en": "Only staff may log in."},
    "login.disabled": {
        "ru": "Веб-журнал выключен (web.enabled = false).",
        "en": "The web journal is turned off (web.enabled = false).",
    },
    # errors -----------------------------------------------------------------------------------
    "error.csrf": {
        "ru": "Форма устарела или пришла не с этой страницы. Обновите страницу и повторите.",
        "en": "The form has expired or did not come from this page. Reload the page and try again.",
    },
    "error.not_found": {
        "ru": "Такой страницы или записи нет.",
        "en": "There is no such page or record.",
    },
    "error.storage": {
        "ru": "База данных сейчас недоступна, попробуйте через минуту.",
        "en": "The database is unavailable right now, try again in a minute.",
    },
    "error.internal": {
        "ru": "Что-то пошло не так, ошибка записана в журнал службы.",
        "en": "Something went wrong; the error was logged.",
    },
    "error.admins_only": {
        "ru": "Это могут только администраторы.",
        "en": "Only admins can do this.",
    },
    "error.back": {"ru": "Назад", "en": "Back"},
    # journal ----------------------------------------------------------------------------------
    "journal.title": {"ru": "Журнал уведомлений", "en": "Notification journal"},
    "journal.search": {
        "ru": "Телефон, e-mail, номер заказа, имя клиента или id события",
        "en": "Phone, e-mail, order number, customer name or event id",
    },
    "journal.status": {"ru": "Статус", "en": "Status"},
    "journal.channel": {"ru": "Канал", "en": "Channel"},
    "journal.type": {"ru": "Тип события", "en": "Event type"},
    "journal.rule": {"ru": "Правило", "en": "Rule"},
    "journal.from": {"ru": "С", "en": "From"},
    "journal.to": {"ru": "По", "en": "To"},
    "journal.any": {"ru": "все", "en": "any"},
    "journal.find": {"ru": "Найти", "en": "Search"},
    "journal.reset": {"ru": "Сбросить", "en": "Reset"},
    "journal.time": {"ru": "Время", "en": "Time"},
    "journal.recipient": {"ru": "Получатель", "en": "Recipient"},
    "journal.address": {"ru": "Адрес", "en": "Address"},
    "journal.note": {"ru": "Ошибка / причина", "en": "Error / reason"},
    "journal.total": {"ru": "Всего: {total}", "en": "Total: {total}"},
    "journal.total_more": {"ru": "Всего: более {total}", "en": "Total: more than {total}"},
    "journal.page": {"ru": "страница {page} из {pages}", "en": "page {page} of {pages}"},
    "journal.prev": {"ru": "← Назад", "en": "← Previous"},
    "journal.next": {"ru": "Дальше →", "en": "Next →"},
    "journal.empty": {"ru": "Ничего не найдено.", "en": "Nothing found."},
    "journal.bad_filter": {
        "ru": "Не удалось прочитать фильтр: {keys}. Даты — ГГГГ-ММ-ДД.",
        "en": "Could not read the filter: {keys}. Dates are YYYY-MM-DD.",
    },
    "journal.resend_failed": {
        "ru": "Отправить заново все ошибки ({count})",
        "en": "Resend every failed row ({count})",
    },
    "journal.resend_failed_confirm": {
        "ru": "Отправить заново {count} уведомлений с ошибкой по текущему фильтру?",
        "en": "Resend {count} failed notifications of the current filter?",
    },
    "journal.resent_many": {
        "ru": "Поставлено в очередь заново: {count}.",
        "en": "Queued to be sent again: {count}.",
    },
    "journal.sort_newest": {"ru": "сначала новые", "en": "newest first"},
    "journal.sort_oldest": {"ru": "сначала старые", "en": "oldest first"},
    # one row ------------------------------------------------------------------------------------
    "row.title": {"ru": "Уведомление #{id}", "en": "Notification #{id}"},
    "row.text": {"ru": "Текст, как отправлен", "en": "Text as sent"},
    "row.subject": {"ru": "Тема", "en": "Subject"},
    "row.provider": {"ru": "Провайдер", "en": "Provider"},
    "row.message_id": {"ru": "Id сообщения у провайдера", "en": "Provider's message id"},
    "row.attempts": {"ru": "Попыток", "en": "Attempts"},
    "row.error": {"ru": "Последняя ошибка", "en": "Last error"},
    "row.reason": {"ru": "Причина", "en": "Reason"},
    "row.event": {"ru": "Событие", "en": "Event"},
    "row.created": {"ru": "Создано", "en": "Created"},
    "row.due": {"ru": "К отправке", "en": "Due"},
    "row.sent": {"ru": "Отправлено", "en": "Sent"},
    "row.failed": {"ru": "Ошибка в", "en": "Failed at"},
    "row.delivered": {"ru": "Доставлено", "en": "Delivered"},
    "row.receipt": {"ru": "Отчёт о доставке", "en": "Delivery receipt"},
    "row.segments": {"ru": "SMS-частей", "en": "SMS segments"},
    "row.resend": {"ru": "Отправить заново", "en": "Resend"},
    "row.resent": {
        "ru": "Уведомление #{id} поставлено в очередь заново.",
        "en": "Notification #{id} is queued to be sent again.",
    },
    "row.not_resent": {
        "ru": "Уведомление #{id} отправляется прямо сейчас — повторите позже.",
        "en": "Notification #{id} is being sent right now; try again later.",
    },
    "row.back": {"ru": "← К журналу", "en": "← Back to the journal"},
    # stop list ------------------------------------------------------------------------------------
    "stop.title": {"ru": "Стоп-лист", "en": "Stop list"},
    "stop.search": {"ru": "Поиск по стоп-листу", "en": "Search the stop list"},
    "stop.add": {"ru": "Добавить", "en": "Add"},
    "stop.who": {
        "ru": "Кто: телефон, e-mail, id клиента или chat:id",
        "en": "Who: phone, e-mail, customer id or chat:id",
    },
    "stop.type": {"ru": "Тип события или * (все)", "en": "Event type or * (all)"},
    "stop.channel": {"ru": "Канал", "en": "Channel"},
    "stop.all": {"ru": "все (*)", "en": "all (*)"},
    "stop.reason": {"ru": "Причина", "en": "Reason"},
    "stop.author": {"ru": "Автор", "en": "Author"},
    "stop.created": {"ru": "Добавлено", "en": "Added"},
    "stop.remove": {"ru": "Удалить", "en": "Remove"},
    "stop.remove_confirm": {
        "ru": "Удалить запись #{id} ({who}) из стоп-листа?",
        "en": "Remove entry #{id} ({who}) from the stop list?",
    },
    "stop.added": {
        "ru": "Добавлено в стоп-лист: #{id} {who}.",
        "en": "Added to the stop list: #{id} {who}.",
    },
    "stop.removed": {"ru": "Запись #{id} удалена.", "en": "Entry #{id} removed."},
    "stop.not_found": {"ru": "Записи #{id} нет.", "en": "There is no entry #{id}."},
    "stop.empty": {"ru": "Стоп-лист пуст.", "en": "The stop list is empty."},
    "stop.bad_who": {
        "ru": "Укажите телефон, e-mail, id клиента или chat:<id>.",
        "en": "Give a phone, an e-mail, a customer id or chat:<id>.",
    },
    "stop.bad_type": {
        "ru": "Тип события: латиница, цифры и _, или *.",
        "en": "Event type: lowercase letters, digits and _, or *.",
    },
    "stop.bad_channel": {"ru": "Такого канала нет.", "en": "There is no such channel."},
    "stop.long_reason": {
        "ru": "Причина длиннее 500 знаков.",
        "en": "The reason is longer than 500 characters.",
    },
    # rules ----------------------------------------------------------------------------------------
    "rules.title": {"ru": "Правила", "en": "Rules"},
    "rules.name": {"ru": "Название", "en": "Name"},
    "rules.event": {"ru": "Событие", "en": "Event"},
    "rules.recipients": {"ru": "Получатели", "en": "Recipients"},
    "rules.channels": {"ru": "Каналы", "en": "Channels"},
    "rules.state": {"ru": "Состояние", "en": "State"},
    "rules.blocked": {"ru": "выключено", "en": "blocked"},
    "rules.active": {"ru": "работает", "en": "active"},
    "rules.block": {"ru": "Выключить", "en": "Block"},
    "rules.unblock": {"ru": "Включить", "en": "Unblock"},
    "rules.now_blocked": {"ru": "Правило «{name}» выключено.", "en": "Rule “{name}” is blocked."},
    "rules.now_unblocked": {
        "ru": "Правило «{name}» включено.",
        "en": "Rule “{name}” is unblocked.",
    },
    "rules.empty": {
        "ru": "Правил нет. Импортируйте файл .toml.",
        "en": "There are no rules. Import a .toml file.",
    },
    "rules.import": {"ru": "Импорт правил из файла TOML", "en": "Import rules from a TOML file"},
    "rules.import_file": {"ru": "Файл .toml", "en": "A .toml file"},
    "rules.import_text": {"ru": "или текст TOML", "en": "or TOML text"},
    "rules.import_button": {"ru": "Импортировать", "en": "Import"},
    "rules.imported": {
        "ru": "Правила импортированы: создано {created}, обновлено {updated}.",
        "en": "Rules imported: {created} created, {updated} updated.",
    },
    "rules.import_errors": {
        "ru": "Файл не импортирован, ошибок: {count}",
        "en": "Nothing imported, {count} problem(s):",
    },
    "rules.import_nothing": {
        "ru": "Выберите файл или вставьте текст.",
        "en": "Choose a file or paste the text.",
    },
    "rules.export": {"ru": "Скачать все правила (TOML)", "en": "Download every rule (TOML)"},
    "rules.definition": {"ru": "Правило в TOML", "en": "The rule in TOML"},
    "rules.preview": {
        "ru": "Как выглядит сообщение (пример события)",
        "en": "What the message looks like (a sample event)",
    },
    "rules.preview_error": {"ru": "Ошибка шаблона", "en": "Template error"},
    "rules.sms_info": {
        "ru": "SMS: {segments} част., кодировка {encoding}, {units} симв.",
        "en": "SMS: {segments} segment(s), {encoding} encoding, {units} units",
    },
    # status ---------------------------------------------------------------------------------------
    "status.title": {"ru": "Состояние", "en": "Status"},
    "status.queue": {"ru": "Очередь по каналам", "en": "Queue per channel"},
    "status.waiting": {"ru": "ждут отправки", "en": "waiting"},
    "status.next_hour": {"ru": "в ближайший час", "en": "due in the next hour"},
    "status.last_error": {"ru": "последняя ошибка", "en": "last error"},
    "status.lag": {"ru": "Задержка очереди", "en": "Dispatcher lag"},
    "status.lag_none": {"ru": "нет просроченных", "en": "nothing overdue"},
    "status.lag_value": {"ru": "{seconds} с", "en": "{seconds} s"},
    "status.leader": {
        "ru": "Периодические задачи ведёт этот процесс",
        "en": "This process runs the periodic jobs",
    },
    "status.not_leader": {
        "ru": "Периодические задачи ведёт другой процесс",
        "en": "Another process runs the periodic jobs",
    },
    "status.database": {"ru": "База данных", "en": "Database"},
    "status.portals": {"ru": "SMS-порталы", "en": "SMS portals"},
    "status.balance": {"ru": "баланс", "en": "balance"},
    "status.modems": {"ru": "Модемы", "en": "Modems"},
    "status.signal": {"ru": "сигнал", "en": "signal"},
    "status.operator": {"ru": "оператор", "en": "operator"},
    "status.channels": {"ru": "Каналы", "en": "Channels"},
    "status.none": {"ru": "нет", "en": "none"},
    "status.refresh": {
        "ru": "Страница обновляется каждые 15 секунд.",
        "en": "The page refreshes every 15 seconds.",
    },
    # confirmations --------------------------------------------------------------------------------
    "confirm.title": {"ru": "Подтверждение", "en": "Please confirm"},
    "confirm.yes": {"ru": "Да", "en": "Yes"},
    "confirm.no": {"ru": "Отмена", "en": "Cancel"},
}


def web_language(cookie: str | None, accept_language: str | None) -> str:
    """The switch's cookie, else the browser's first ru/en preference, else Russian."""
    if cookie in WEB_LANGUAGES:
        return str(cookie)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()[:2]))
    for _, _, tag in sorted(ranked):
        if tag in WEB_LANGUAGES:
            return tag
    return "ru"


def wt(key: str, lang: str, /, **values: Any) -> str:
    """The web text ``key`` in ``lang`` with ``values`` filled in (not escaped: the page
    template escapes)."""
    entry = WEB_TEXTS[key]
    template = entry.get(lang) or entry["ru"]
    return template.format(**values) if values else template
