"""``[conversations]``: customers' answers routed to the staff chat and replies back —
the chat, stop words, flood limit and inbound SMS from the modems."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config.values import Section


class ConversationsConfig(Section):
    """Customers' answers routed to staff, staff replies back (docs/conversations.md)."""

    enabled: bool = True
    staff_chat: int | None = None  # a group or (forum) supergroup id, e.g. -1001234567890
    stop_words: list[str] = ["STOP", "СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА"]
    flood_per_minute: int = Field(10, ge=1)  # more inbound messages a minute are held back
    sms_inbound: bool = True  # read SMS arriving at the modems (and delete them from the SIM)
    sms_sweep_seconds: float = Field(60, ge=1)  # how often stored SMS are listed anyway

    @field_validator("staff_chat")
    @classmethod
    def _staff_chat(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                "a group id is negative, e.g. -1001234567890 (see "
                "docs/conversations.md for how to find it)"
            )
        return value
