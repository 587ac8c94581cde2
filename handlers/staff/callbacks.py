"""The typed callback data of the staff keyboards (at most 64 bytes packed)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class JournalCb(CallbackData, prefix="jr"):
    """``page`` a view; ``open`` a row; ``resend``/``stop`` ask, ``resend_ok``/``stop_ok`` do."""

    action: str
    scope: str = "all"  # all | failed | today
    channel: str = ""
    status: str = ""
    page: int = 0
    row: int = 0


class StopCb(CallbackData, prefix="sl"):
    action: str  # page | ask | remove
    page: int = 0
    entry: int = 0


class RulesCb(CallbackData, prefix="rl"):
    action: str  # list | open | toggle | edit | copy | test | delete | delete_ok
    rule: int = 0


class WizardCb(CallbackData, prefix="wz"):
    """A press in the rule wizard: ``action`` names it, ``value`` is its argument."""

    action: str
    value: str = ""


class TemplatesCb(CallbackData, prefix="tp"):
    action: str  # new
    event: str = ""
