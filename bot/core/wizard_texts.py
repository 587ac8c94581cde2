"""The texts of the bot's rule wizard (``/rules new``), in Russian and English. Merged into
:data:`bot.core.texts.TEXTS`."""

from __future__ import annotations

import re


def _(ru: str, en: str) -> dict[str, str]:
    return {"ru": ru, "en": en}


WIZARD_TEXTS: dict[str, dict[str, str]] = {
    "wizard.new": _("Новое правило", "New rule"),
    "wizard.editing": _("Правило #{id}", "Rule #{id}"),
    "wizard.header": _(
        "<b>{what}</b> · шаг {n} из {total}: {step}", "<b>{what}</b> · step {n} of {total}: {step}"
    ),
    "wizard.header_summary": _(
        "<b>{what}</b> · проверьте и сохраните", "<b>{what}</b> · check and save"
    ),
    "wizard.step.event": _("событие", "event"),
    "wizard.step.recipients": _("получатели", "recipients"),
    "wizard.step.channels": _("каналы", "channels"),
    "wizard.step.providers": _("провайдеры", "providers"),
    "wizard.step.timing": _("время", "timing"),
    "wizard.step.filters": _("фильтры", "filters"),
    "wizard.step.template": _("текст", "template"),
    "wizard.step.options": _("название и режим", "name and options"),
    "wizard.step.summary": _("проверка", "summary"),
    "wizard.back": _("⬅️ Назад", "⬅️ Back"),
    "wizard.next": _("Дальше ➡️", "Next ➡️"),
    "wizard.done": _("✔️ Готово", "✔️ Done"),
    "wizard.cancel": _("✖️ Отмена", "✖️ Cancel"),
    "wizard.save": _("💾 Сохранить", "💾 Save"),
    "wizard.back_to_card": _("↩️ Вернуться к шагу", "↩️ Back to the step"),
    "wizard.cancelled": _(
        "Создание правила отменено, ничего не сохранено.", "Cancelled; nothing was saved."
    ),
    "wizard.expired": _(
        "Этот диалог уже закончен или устарел. Начните заново: /rules new",
        "This dialogue has ended or expired. Start again: /rules new",
    ),
    "wizard.saved": _("✅ Правило #{id} «{name}» сохранено.", "✅ Rule #{id} “{name}” saved."),
    "wizard.problems": _("⚠️ <b>Исправьте:</b>\n{problems}", "⚠️ <b>Please fix:</b>\n{problems}"),
    "wizard.need.event": _("выберите тип события", "choose an event type"),
    "wizard.need.recipients": _(
        "отметьте хотя бы одного получателя", "tick at least one recipient"
    ),
    "wizard.need.channels": _("выберите хотя бы один канал", "choose at least one channel"),
    "wizard.yes": _("да", "yes"),
    "wizard.no": _("нет", "no"),
    # event
    "wizard.event.text": _(
        "О каком событии сообщать? Выберите группу, затем тип.\nСейчас: {current}",
        "Which event should be notified? Choose a group, then a type.\nNow: {current}",
    ),
    "wizard.event.groups": _("↩️ Группы", "↩️ Groups"),
    "wizard.event.custom": _("✍️ Свой тип (ввести)", "✍️ A custom type (type it)"),
    "wizard.group.orders": _("🔧 Заказы и ремонт", "🔧 Orders and repair"),
    "wizard.group.parts": _("📦 Запчасти и заказы", "📦 Parts and orders"),
    "wizard.group.money": _("💳 Оплаты и счета", "💳 Payments and invoices"),
    "wizard.group.care": _("🎁 Забота о клиенте", "🎁 Customer care"),
    "wizard.group.tasks": _("📝 Задачи", "📝 Tasks"),
    # recipients
    "wizard.recipients.text": _(
        "Кому сообщать? Отметьте одного или нескольких.\nСейчас: {current}",
        "Who is told? Tick one or more.\nNow: {current}",
    ),
    "wizard.recipients.typed": _(
        "✍️ Сотрудник или чат (ввести)", "✍️ A staff member or chat (type it)"
    ),
    "wizard.role.customer": _("Клиент", "Customer"),
    "wizard.role.manager": _("Менеджер", "Manager"),
    "wizard.role.master": _("Мастер", "Master"),
    "wizard.role.author": _("Автор документа", "Author"),
    "wizard.role.responsible": _("Ответственный", "Responsible"),
    # channels
    "wizard.channels.text": _(
        "Каналы — в том порядке, в каком вы их нажмёте.\nСейчас: {current}\nДоставка: {delivery}",
        "Channels, in the order you press them.\nNow: {current}\nDelivery: {delivery}",
    ),
    "wizard.delivery.first": _("первый доступный канал", "the first usable channel"),
    "wizard.delivery.all": _("все каналы", "every channel"),
    "wizard.providers.text": _(
        "Через кого отправлять? Для SMS можно выбрать цепочку (по порядку нажатия).\n{current}",
        "Which provider sends? SMS may take a chain (in the order pressed).\n{current}",
    ),
    "wizard.providers.any": _("любой настроенный", "any configured"),
    # timing
    "wizard.timing.text": _(
        "Когда отправлять? Время отсчитывается от {anchor}.\nСейчас: {current}",
        "When is it sent? Counted from {anchor}.\nNow: {current}",
    ),
    "wizard.timing.at": _("в момент события", "at the time"),
    "wizard.timing.before": _("за {value}", "{value} before"),
    "wizard.timing.after": _("через {value}", "{value} after"),
    "wizard.timing.days": _("через {n} раб. дн.", "after {n} working days"),
    "wizard.timing.typed": _("✍️ Ввести", "✍️ Type it"),
    # filters
    "wizard.filters.text": _(
        "Условия: уведомление уйдёт, только если событие им отвечает "
        "(❌ — убрать условие).\n{current}",
        "Conditions: a notification "
        "goes only when the event meets them (❌ removes one).\n{current}",
    ),
    "wizard.filters.add": _("➕ Добавить условие", "➕ Add a condition"),
    "wizard.filters.pick": _("Какое поле события проверять?", "Which field of the event?"),
    "wizard.filters.typed": _("✍️ Другое поле (ввести)", "✍️ Another field (type it)"),
    "wizard.filters.op": _("Поле {path}: как сравнивать?", "Field {path}: how to compare?"),
    "wizard.filters.value": _(
        "Поле {path}, {op}: напишите значение сообщением.",
        "Field {path}, {op}: type the value as a message.",
    ),
    "wizard.filters.drop": _("✖️ Не добавлять условие", "✖️ Drop this condition"),
    "wizard.op.equals": _("равно", "equals"),
    "wizard.op.in": _("одно из", "one of"),
    "wizard.op.not_in": _("ни одно из", "none of"),
    "wizard.op.any": _("в списке есть", "list contains"),
    "wizard.op.gte": _("не меньше", "at least"),
    "wizard.op.lte": _("не больше", "at most"),
    "wizard.op.exists": _("заполнено", "is filled in"),
    # template
    "wizard.template.default": _("Текст по умолчанию", "Keep the default text"),
    "wizard.template.body": _("✍️ Свой текст", "✍️ Own text"),
    "wizard.template.subject": _("✍️ Тема письма", "✍️ E-mail subject"),
    "wizard.template.kept": _(
        "Текст: по умолчанию для типа события.", "Text: the event type's default."
    ),
    "wizard.template.own": _("Текст: свой.", "Text: own."),
    "wizard.preview.title": _(
        "👁 <b>Так увидит получатель ({channel})</b> — на примере события:",
        "👁 <b>What the recipient sees ({channel})</b>, on a sample event:",
    ),
    "wizard.preview.subject": _("Тема: {subject}", "Subject: {subject}"),
    "wizard.preview.sms": _(
        "SMS: {segments} шт., {encoding}, {units} симв. (по {per} в части)",
        "SMS: {segments} segment(s), {encoding}, {units} chars ({per} per segment)",
    ),
    "wizard.preview.error": _(
        "⚠️ Шаблон для {channel} не собирается: {error}",
        "⚠️ The {channel} template does not render: {error}",
    ),
    # options
    "wizard.options.text": _("Название: <b>{name}</b>", "Name: <b>{name}</b>"),
    "wizard.options.quiet": _("Соблюдать тихие часы", "Respect quiet hours"),
    "wizard.options.blocked": _("Сохранить выключенным", "Save it blocked"),
    "wizard.options.name": _("✍️ Название", "✍️ Name"),
    # summary
    "wizard.sum.name": _("Название: {value}", "Name: {value}"),
    "wizard.sum.event": _("Событие: {value}", "Event: {value}"),
    "wizard.sum.recipients": _("Получатели: {value}", "Recipients: {value}"),
    "wizard.sum.channels": _("Каналы: {value} ({delivery})", "Channels: {value} ({delivery})"),
    "wizard.sum.providers": _("Провайдеры: {value}", "Providers: {value}"),
    "wizard.sum.timing": _("Время: {value}", "Timing: {value}"),
    "wizard.sum.filters": _("Условия: {value}", "Conditions: {value}"),
    "wizard.sum.template": _("{value}", "{value}"),
    "wizard.sum.options": _(
        "Тихие часы: {quiet} · выключено: {blocked}", "Quiet hours: {quiet} · blocked: {blocked}"
    ),
    # typed answers
    "wizard.prompt.event": _(
        "Напишите тип события латиницей (например, <code>car_ready</code>).",
        "Type the event type in lowercase Latin (e.g. <code>car_ready</code>).",
    ),
    "wizard.prompt.recipient": _(
        "Напишите <code>staff:id</code> сотрудника из ERP или <code>chat:id</code> чата Telegram.",
        "Type <code>staff:id</code> (an ERP staff id) or <code>chat:id</code> (a Telegram chat).",
    ),
    "wizard.prompt.timing": _(
        "Напишите, например, <code>за 90m</code>, <code>через 2d</code> "
        "или <code>2h</code> (= за 2 часа); для неоплаченного счёта — "
        "число рабочих дней.",
        "Type e.g. <code>before 90m</code>, "
        "<code>after 2d</code> or <code>2h</code> (= 2 hours before); "
        "for an unpaid invoice, a number of working days.",
    ),
    "wizard.prompt.field": _(
        "Напишите поле события через точки, например <code>order.territory</code>.",
        "Type the event's field as a dotted path, e.g. <code>order.territory</code>.",
    ),
    "wizard.prompt.value": _(
        "Поле {path}, {op}: напишите значение (несколько — через запятую).",
        "Field {path}, {op}: type the value (several: comma-separated).",
    ),
    "wizard.prompt.subject": _(
        "Напишите тему письма (можно {{{{ order.number }}}} и другие переменные — см. /templates).",
        "Type the e-mail subject (variables such as {{{{ order.number }}}} work: see /templates).",
    ),
    "wizard.prompt.body": _(
        "Напишите текст сообщения. Переменные: {{{{ customer.name }}}}, "
        "{{{{ order.number }}}}… — список в /templates.",
        "Type the "
        "message text. Variables: {{{{ customer.name }}}}, "
        "{{{{ order.number }}}}… (the list: /templates).",
    ),
    "wizard.prompt.name": _("Напишите название правила.", "Type the rule's name."),
}


# The rule validation (shared with `vestnik rules import`) words its problems in English; the
# Russian wizard shows them translated. Unknown messages are shown as they are.
PROBLEMS_RU: tuple[tuple[str, str], ...] = (
    (
        r"(.+): (gte|lte) takes a number or an ISO date \(2026-11-25\), not (.+)",
        r"\1: для «не меньше/не больше» нужно число или дата (2026-11-25), а не \3",
    ),
    (r"(.+): (in|not_in|any) takes a list", r"\1: нужен список значений"),
    (r"(.+): exists takes true or false", r"\1: «заполнено» — да или нет"),
    (
        r"'(.+)' is not a dotted path like order\.territory",
        r"«\1» — не поле через точки, как order.territory",
    ),
    (
        r"(\w+) is for staff only: a rule for the customer cannot use it",
        r"канал \1 — только для сотрудников, правилу для клиента он не подходит",
    ),
    (
        r"unknown recipient '(.+?)'.*",
        r"неизвестный получатель «\1»: customer, manager, "
        r"master, author, responsible, staff:<id> или chat:<id чата>",
    ),
    (
        r"'(.+?)' is not an allowed recipient.*",
        r"«\1» — не получатель: customer, manager, "
        r"master, author, responsible, staff:<id> (без пробелов) или chat:<id чата>",
    ),
    (r"set before or after, not both", r"укажите «за» или «через», не оба"),
    (
        r"(\w+) is anchored at the moment the ERP posts it.*",
        r"\1 отсчитывается от момента события: раньше него отправить нельзя",
    ),
    (r"not a duration: '(.+?)'.*", r"«\1» — не длительность (например, 90m, 2h, 3d)"),
    (r"String should match pattern .*", r"латинские строчные буквы, цифры и _"),
    (r"a rule named '(.+)' exists \(#(\d+)\)", r"правило «\1» уже есть (#\2)"),
    (r"template error(.*)", r"ошибка в шаблоне\1"),
    (r"'(.+)' is not a number of days", r"«\1» — не число дней"),
)


def problem_text(problem: str, lang: str) -> str:
    """A validation problem (``key: message``) in ``lang``."""
    if lang != "ru":
        return problem
    key, sep, message = problem.partition(": ")
    for pattern, replacement in PROBLEMS_RU:
        if re.fullmatch(pattern, message, flags=re.S):
            return f"{key}{sep}{re.sub(pattern, replacement, message, flags=re.S)}"
    return problem
