"""``[webhook]``: where the ERP posts events and how they are authenticated (bearer
tokens, a Standard Webhooks signing secret), plus the HTTP server's limits."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from pydantic import Field, SecretStr, field_validator

from bot.core.config.values import Section, check_token


class WebhookConfig(Section):
    listen: str = "127.0.0.1:8080"
    path: str = "/events"
    tokens: list[SecretStr] = []
    secret: SecretStr | None = None
    tolerance_seconds: int = Field(300, ge=1)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_batch: int = Field(1000, ge=1, le=10000)
    metrics_token: SecretStr | None = None  # /metrics and /healthz details; else loopback only
    max_connections: int = Field(512, ge=8)  # open connections; more are answered 503
    header_timeout: float = Field(15, gt=0)  # seconds for a request's headers; idle keep-alive
    body_timeout: float = Field(30, gt=0)  # seconds to read a request body

    @field_validator("tokens", "metrics_token")
    @classmethod
    def _tokens(cls, value: Any) -> Any:
        for token in value if isinstance(value, list) else [value] if value else []:
            check_token(token.get_secret_value())
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("use host:port, e.g. 127.0.0.1:8080")
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"port {port} is outside 1-65535 (use e.g. 127.0.0.1:8080)")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        raw = value.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError('must look like "whsec_<base64 key>" (Standard Webhooks)')
        try:
            key = base64.b64decode(raw[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the part after whsec_ is not valid base64") from None
        if len(key) < 16:
            raise ValueError("the key is too short: use at least 24 random bytes")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def secret_key(self) -> bytes | None:
        if self.secret is None:
            return None
        return base64.b64decode(self.secret.get_secret_value()[len("whsec_") :])

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False
