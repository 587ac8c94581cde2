"""``[web]``: the managers' pages — whether they are on, the address browsers use, how long
a session lasts and the key that signs links and cookies."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from bot.core.config.values import Section


class WebConfig(Section):
    """The managers' pages under ``/web/`` (login links come from the bot or the CLI)."""

    enabled: bool = True
    base_url: str = ""  # how browsers reach the service; default http://<webhook.listen>
    session_hours: float = Field(12, gt=0, le=24 * 90)
    secret: SecretStr | None = None  # signs links and cookies; default: one kept in the database

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("use the address browsers open, e.g. https://vestnik.example.ru")
        return value

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")
