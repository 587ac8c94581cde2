"""The texts of staff alerts and the daily digest, in Russian and English (plain text:
bot/services/alerts.py escapes them for Telegram)."""

from __future__ import annotations

from typing import Any

ALERT_TEXTS: dict[str, dict[str, str]] = {
    "failures.subject": {
        "ru": "Vestnik: не доставлено ({channel})",
        "en": "Vestnik: not delivered ({channel})",
    },
    "failures": {
        "ru": "⚠️ Канал {channel}: {count} уведомл. не доставлено с {since}.\nПервые ошибки:\n"
        "{errors}",
        "en": "⚠️ Channel {channel}: {count} notification(s) not delivered since {since}.\n"
        "First errors:\n{errors}",
    },
    "failures.line": {"ru": "• №{id} {address}: {error}", "en": "• #{id} {address}: {error}"},
    "portal.down": {
        "ru": "🔴 SMS-портал {name} недоступен после {failures} ошибок подряд: {error}",
        "en": "🔴 SMS portal {name} is down after {failures} failures in a row: {error}",
    },
    "portal.up": {
        "ru": "🟢 SMS-портал {name} снова работает",
        "en": "🟢 SMS portal {name} is up again",
    },
    "balance.low": {
        "ru": "💰 Баланс SMS-портала {name}: {balance} — меньше порога {limit}. Пополните счёт.",
        "en": "💰 SMS portal {name} balance is {balance}, under the {limit} limit. Top it up.",
    },
    "modem.trouble": {"ru": "📵 Модем {name}: {problem}", "en": "📵 Modem {name}: {problem}"},
    "modem.ok": {
        "ru": "📶 Модем {name} снова в работе ({signal})",
        "en": "📶 Modem {name} works again ({signal})",
    },
    "modem.no_signal": {"ru": "нет сигнала сети", "en": "no network signal"},
    "modem.gone": {"ru": "не готов ({state}): {error}", "en": "not ready ({state}): {error}"},
    "lag": {
        "ru": "⏳ Очередь канала {channel} отстаёт: самое старое уведомление ждёт с {since} "
        "(дольше {limit})",
        "en": "⏳ Channel {channel} queue is behind: the oldest notification has waited since "
        "{since} (longer than {limit})",
    },
    "alert.subject": {"ru": "Vestnik: предупреждение", "en": "Vestnik: alert"},
    "digest.subject": {"ru": "Vestnik: сводка за {day}", "en": "Vestnik: digest for {day}"},
    "digest.head": {"ru": "📊 Сводка за сутки до {until}", "en": "📊 Digest of the day to {until}"},
    "digest.row": {
        "ru": "• {channel} / {rule}: отправлено {sent}, доставлено {delivered}, ошибок {failed}",
        "en": "• {channel} / {rule}: sent {sent}, delivered {delivered}, failed {failed}",
    },
    "digest.nothing": {"ru": "Уведомлений не было.", "en": "No notifications."},
    "digest.balances": {"ru": "Балансы: {balances}", "en": "Balances: {balances}"},
    "digest.errors": {"ru": "Частые ошибки:", "en": "Top errors:"},
    "digest.error": {"ru": "• {count} × {error}", "en": "• {count} × {error}"},
}


def alert_text(key: str, lang: str, /, **values: Any) -> str:
    entry = ALERT_TEXTS[key]
    return (entry.get(lang) or entry["ru"]).format(**values)
