"""An SMS that arrived at a modem, and the protocol of whoever takes it.

The modem lane (``senders/modem/inbound.py``) reads and reassembles incoming SMS; it knows no
storage, so it hands each message to an :class:`InboundSmsSink` the assembly wires in
(``bot/conversations_runtime.py`` -> ``bot/services/sms_answers.py``). The message is deleted
from the SIM only after the sink returned: a sink that raises gets it again on the next sweep,
and ``key`` lets it recognise a message it has already taken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class InboundSms:
    modem: str  # the [[sms.modems]] name it arrived at
    sender: str  # the originating address as sent (E.164 with "+" for international numbers)
    text: str  # all parts, reassembled
    sent_at: datetime | None  # the SMS centre's time stamp of the first part
    parts: int = 1
    key: str = ""  # stable for the same message: sender, time stamp, reference

    def __post_init__(self) -> None:
        if not self.key:
            stamp = self.sent_at.isoformat() if self.sent_at else ""
            digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]
            object.__setattr__(self, "key", f"{self.sender}|{stamp}|{digest}")


class InboundSmsSink(Protocol):
    async def __call__(self, sms: InboundSms) -> None:
        """Take one message; raise to have it offered again later (it stays on the SIM)."""
        ...
