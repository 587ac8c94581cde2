"""sms16.ru (Intis Telecom): the Intis protocol on its own host (from the portal's published API)."""

from __future__ import annotations

from senders.sms.intis import IntisPortal


class Sms16Portal(IntisPortal):
    kind = "sms16"
    default_base_url = "https://new.sms16.ru/get"
