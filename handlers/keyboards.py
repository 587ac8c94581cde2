"""Reply keyboards shared by the customer routers."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from bot.core.texts import t


def orders_keyboard(lang: str) -> ReplyKeyboardMarkup:
    """The customer's keyboard once linked: one button that opens ``/orders``."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t("orders.button", lang))]],
        resize_keyboard=True,
        is_persistent=True,
    )
