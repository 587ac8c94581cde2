"""``[telegram]``: the bot's token and API, polling or webhook mode, admins and who may
edit rules, deep-link signing and the send rate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bot.core.config.values import Section


class TelegramConfig(Section):
    token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    admins: list[int] = []
    rate_per_second: float = Field(25, gt=0)
    webhook_url: str = ""  # public URL Telegram posts updates to (mode = "webhook")
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    link_secret: SecretStr | None = None  # HMAC key for /start deep-link tokens
    link_ttl_days: int = Field(30, ge=1)
    # besides the admins, who may change rules in the chat: Telegram ids, or "staff" for
    # every verified staff member
    rule_editors: list[int] | Literal["staff"] = []
    dialogue_ttl_hours: float = Field(24, gt=0)  # an untouched /rules new dialogue is dropped

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.token.get_secret_value())
