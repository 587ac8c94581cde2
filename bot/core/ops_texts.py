"""Texts of the operator's tools (the ``vestnik`` command line and the HTTP API) for the
journal's resend, the one-serve-per-database lock and the hand-run birthday scan, in Russian
and English (Russian by default). Plain text, not HTML: they go to a terminal or into JSON.
The bot's own texts are in :mod:`bot.core.texts`."""

from __future__ import annotations

from typing import Any

OPS_TEXTS: dict[str, dict[str, str]] = {
    "serve.database_in_use": {
        "ru": "База данных {path} уже используется другим процессом vestnik serve "
        "(PID {pid}). С одной базой SQLite работает только один vestnik serve: "
        "остановите тот процесс или укажите другую базу в service.database.",
        "en": "The database {path} is already used by another vestnik serve (PID {pid}). "
        "Only one vestnik serve may run per SQLite database: stop that process or set "
        "another service.database.",
    },
    "resend.scheduled": {
        "ru": "Уведомление {id} ещё не отправлялось: оно запланировано на {due}. "
        "Чтобы отправить его сейчас, добавьте {flag}.",
        "en": "Notification {id} has not been sent yet: it is scheduled for {due}. "
        "To send it now, add {flag}.",
    },
    "resend.not_found": {
        "ru": "Уведомление {id} не найдено.",
        "en": "Notification {id} was not found.",
    },
    "resend.sending": {
        "ru": "Уведомление {id} отправляется прямо сейчас; повторите, когда отправка закончится.",
        "en": "Notification {id} is being sent right now; try again when it has finished.",
    },
    "resend.done": {
        "ru": "Уведомление {id} снова в очереди (sent_at, failed_at и error очищены).",
        "en": "Notification {id} is pending again (sent_at, failed_at and error cleared).",
    },
    "birthdays.header": {
        "ru": "Дни рождения {date}: клиентов {customers}, запланировано уведомлений: {planned}.",
        "en": "Birthdays of {date}: {customers} customer(s), {planned} notification(s) planned.",
    },
    "birthdays.customer": {
        "ru": "  {id} {name}: {rows}",
        "en": "  {id} {name}: {rows}",
    },
    "birthdays.already": {
        "ru": "  {id} {name}: уже запланировано раньше",
        "en": "  {id} {name}: already planned earlier",
    },
    "birthdays.no_rules": {
        "ru": "Нет правил для события birthday: поздравлять некому (vestnik rules import).",
        "en": "No rules for the birthday event: nothing to plan (vestnik rules import).",
    },
}


def say(key: str, lang: str, /, **values: Any) -> str:
    """The text ``key`` in ``lang`` (Russian when there is no such language)."""
    entry = OPS_TEXTS[key]
    return (entry.get(lang) or entry["ru"]).format(**values)
