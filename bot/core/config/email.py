"""``[[email.accounts]]``: the SMTP accounts mail goes out through, each with an optional
IMAP mailbox its bounces are read from."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from bot.core.config.values import EMAIL_ADDRESS, Section, duration_key


class BounceImap(Section):
    """The mailbox bounces (DSN, RFC 3464) of one e-mail account arrive in."""

    host: str
    port: int = 993
    tls: Literal["ssl", "none"] = "ssl"
    username: str = ""
    password: SecretStr | None = None
    mailbox: str = "INBOX"
    every: str = "5m"  # how often the mailbox is read
    timeout: float = Field(30, gt=0)

    _every = field_validator("every")(duration_key)


class EmailAccount(Section):
    name: str = "main"
    host: str
    port: int = Field(465, ge=1, le=65535)
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: SecretStr | None = None
    from_address: str
    from_name: str = ""
    reply_to: str = ""
    timeout: float = Field(30, gt=0)
    max_connections: int = Field(2, ge=1, le=32)
    bounce_imap: BounceImap | None = None  # read DSN bounces: rows become "undelivered"

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str, info: Any) -> str:
        if (value or info.field_name == "from_address") and not EMAIL_ADDRESS.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address (use e.g. service@example.ru)")
        return value


class EmailConfig(Section):
    accounts: list[EmailAccount] = []
