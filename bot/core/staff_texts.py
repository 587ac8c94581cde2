"""The texts of staff work in the bot — browsing the journal, the stop list and rules with
buttons, the rule wizard, ``/templates`` — in Russian and English. Merged into
:data:`bot.core.texts.TEXTS`; same conventions (``str.format``, Telegram HTML)."""

from __future__ import annotations


def _(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


STAFF_TEXTS: dict[str, dict[str, str]] = {
    # browsing ------------------------------------------------------------------------------------
    "browse.prev": _("◀️ Назад", "◀️ Previous"),
    "browse.next": _("Дальше ▶️", "Next ▶️"),
    "browse.page": _("стр. {page}", "page {page}"),
    "browse.back": _("↩️ К списку", "↩️ Back to the list"),
    "browse.cancel": _("Отмена", "Cancel"),
    "journal.scope.all": _("Все", "All"),
    "journal.scope.failed": _("С ошибкой", "Failed"),
    "journal.scope.today": _("Сегодня", "Today"),
    "journal.channel": _("Канал: {value}", "Channel: {value}"),
    "journal.status": _("Статус: {value}", "Status: {value}"),
    "journal.row_gone": _("Записи #{id} больше нет.", "Row #{id} is gone."),
    "journal.resend": _("🔁 Отправить заново", "🔁 Resend"),
    "journal.stop": _("🚫 Не писать этому человеку", "🚫 Stop this person"),
    "journal.resend.ask": _(
        "Отправить уведомление #{id} заново?", "Send notification #{id} again?"
    ),
    "journal.resend.yes": _("Да, отправить", "Yes, resend"),
    "journal.stop.ask": _(
        "Внести получателя уведомления #{id} в стоп-лист (все типы, все каналы)?",
        "Put the recipient of notification #{id} on the stop list (every type, every channel)?",
    ),
    "journal.stop.yes": _("Да, в стоп-лист", "Yes, stop"),
    "journal.stop.nobody": _(
        "У этой записи нет получателя, которого можно остановить.",
        "This row has no recipient that can be stopped.",
    ),
    "stoplist.remove_button": _("❌ #{id}", "❌ #{id}"),
    "stoplist.remove_ask": _(
        "Удалить запись #{id} из стоп-листа? Этому адресу снова начнут приходить уведомления.",
        "Remove entry #{id} from the stop list? Notifications will reach this address again.",
    ),
    "stoplist.remove_yes": _("Да, удалить", "Yes, remove"),
    "who.bad.phone": _("{value} — не номер телефона.", "{value} is not a phone number."),
    "who.bad.chat": _(
        "{value} — не id чата Telegram (нужны цифры).",
        "{value} is not a Telegram chat id (digits needed).",
    ),
    "who.bad.email": _("{value} — не адрес e-mail.", "{value} is not an e-mail address."),
    "who.bad.empty": _("Не указано, кого вносить.", "Nobody given."),
    # rules ---------------------------------------------------------------------------------------
    "rules.usage": _(
        "Формат: /rules · /rules new · /rules show|edit|copy|test|delete|block|"
        "unblock id. Импорт: пришлите файл .toml.",
        "Usage: /rules · /rules new · /rules show|edit|copy|test|delete|block|"
        "unblock id. Import: send a .toml file.",
    ),
    "rules.empty": _(
        "Правил нет. Создайте первое: /rules new (или пришлите файл .toml).",
        "There are no rules. Create the first one: /rules new (or send a .toml file).",
    ),
    "rules.editors_only": _(
        "Менять правила могут администраторы и сотрудники из telegram.rule_editors.",
        "Only admins and the staff listed in telegram.rule_editors can change rules.",
    ),
    "rules.history": _("\n<b>Изменения</b>", "\n<b>Changes</b>"),
    "rules.change": _("{at} · {action} · {author}", "{at} · {action} · {author}"),
    "rules.action.created": _("создано", "created"),
    "rules.action.updated": _("изменено", "changed"),
    "rules.action.blocked": _("выключено", "blocked"),
    "rules.action.unblocked": _("включено", "unblocked"),
    "rules.action.deleted": _("удалено", "deleted"),
    "rules.action.imported": _("импорт из файла", "imported from a file"),
    "rules.block_button": _("⛔ Выключить", "⛔ Block"),
    "rules.unblock_button": _("✅ Включить", "✅ Unblock"),
    "rules.open": _("📄 Открыть", "📄 Open"),
    "rules.edit": _("✏️ Изменить", "✏️ Edit"),
    "rules.copy": _("📑 Копировать", "📑 Copy"),
    "rules.test": _("🧪 Проверить", "🧪 Test"),
    "rules.delete": _("🗑 Удалить", "🗑 Delete"),
    "rules.delete_ask": _(
        "Удалить правило «{name}»? Уже запланированные уведомления останутся в журнале.",
        "Delete rule “{name}”? Notifications already planned stay in the journal.",
    ),
    "rules.delete_yes": _("Да, удалить", "Yes, delete"),
    "rules.deleted": _("Правило «{name}» удалено.", "Rule “{name}” deleted."),
    "rules.test_header": _(
        "🧪 Правило «{name}» — так выглядят его сообщения ({source}). Отправлено только вам.",
        "🧪 Rule “{name}”: its messages look like this ({source}). Sent to you only.",
    ),
    "rules.test_real": _("последнее событие {id}", "latest event {id}"),
    "rules.test_sample": _("пример события", "a sample event"),
    # templates -----------------------------------------------------------------------------------
    "templates.types": _(
        "<b>Типы событий</b> — /templates тип покажет тексты",
        "<b>Event types</b>: /templates type shows the texts",
    ),
    "templates.header": _(
        "<b>Шаблоны по умолчанию: {type}</b>", "<b>Default templates: {type}</b>"
    ),
    "templates.variables": _(
        "<b>Переменные</b> (пример — на образце события)",
        "<b>Variables</b> (examples from a sample event)",
    ),
    "templates.unknown": _(
        "Типа {type} нет. Список: /templates", "There is no type {type}. The list: /templates"
    ),
    "templates.start": _("Создать правило для {type}?", "Create a rule for {type}?"),
    "templates.new_rule": _("➕ Новое правило", "➕ New rule"),
}
