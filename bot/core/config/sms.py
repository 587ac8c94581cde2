"""``[sms]``: the SMS portals (``[[sms.portals]]``, tried in order) and GSM modems
(``[[sms.modems]]``), and the longest message in segments."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr

from bot.core.config.values import Section


class SmsPortal(Section):
    model_config = ConfigDict(extra="allow")  # the http kind carries its own keys

    name: str
    kind: Literal["smsru", "smsc", "smsaero", "devino", "prostor", "sms16", "mirsms", "http"]
    base_url: str = ""
    sender: str = ""
    api_id: SecretStr | None = None
    login: str = ""
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    email: str = ""
    timeout: float = Field(15, gt=0)
    max_connections: int = Field(8, ge=1, le=64)
    down_after: int = Field(3, ge=1)  # consecutive failures that mark the portal down
    cooldown: str = "5m"  # then the primary is probed again


class SmsModem(Section):
    name: str
    port: str
    baudrate: int = 115200
    pin: SecretStr | None = None
    smsc: str = ""
    command_timeout: float = Field(10, gt=0)
    send_timeout: float = Field(60, gt=0)
    delivery_reports: bool = True  # TP-SRR on each submit; reports mark rows delivered


class SmsConfig(Section):
    portals: list[SmsPortal] = []
    modems: list[SmsModem] = []
    max_segments: int = Field(6, ge=1, le=255)
