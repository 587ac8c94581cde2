"""Records that cross the storage boundary. Column names follow docs/rules.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.core.timeutil import rfc3339

JOURNAL_STATUSES = (
    "scheduled",
    "pending",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
    "stopped",
    "skipped",
)
# a provider's receipt turns "sent" into one of these; "undelivered" is a failure staff see
RECEIPT_STATUSES = ("delivered", "undelivered")

# the exact journal column order (docs/rules.md), used by --json and the HTTP API
JOURNAL_COLUMNS = (
    "id",
    "event_id",
    "event_type",
    "rule",
    "recipient_role",
    "recipient_id",
    "recipient_name",
    "channel",
    "provider",
    "address",
    "subject",
    "text",
    "segments",
    "created_at",
    "due_at",
    "sent_at",
    "failed_at",
    "error",
    "attempts",
    "provider_message_id",
    "status",
    "reason",
    "delivered_at",
    "receipt",
)


@dataclass(slots=True)
class Person:
    """A customer or staff member in the directory."""

    kind: str  # "customer" | "staff"
    id: str  # ERP id; customers met without one get "phone:+7..."
    name: str | None = None
    phone: str | None = None  # E.164 when it parsed, else as the ERP sent it
    email: str | None = None
    telegram_id: int | None = None
    group: str | None = None
    birthday: str | None = None  # YYYY-MM-DD or --MM-DD
    language: str | None = None
    timezone: str | None = None


@dataclass(slots=True)
class Plan:
    """What the planner leaves in a journal row for the dispatcher (the ``options`` column,
    JSON): how to send it, how to look its recipient up again, and notes for people."""

    stop_keys: list[str] = field(default_factory=list)  # checked again right before sending
    providers: list[str] = field(default_factory=list)  # the rule's named account/portal chain
    sender_name: str | None = None
    language: str | None = None
    delivery: str | None = None  # the rule's first | all
    channels: list[str] = field(default_factory=list)  # the rule's channel order
    recipient_kind: str | None = None  # customer | staff | chat
    resolve_when_due: bool = False  # look the recipient up again when due
    timezone: str | None = None  # the recipient's, for people reading the journal
    quiet_hours: str | None = None  # "deferred from ..." when quiet hours moved it
    anchor_at: str | None = None  # the anchor a timed rule counted from
    late: str | None = None  # "late: due ..." when planned after its time
    source_event: str | None = None  # the source event of a derived row
    source_type: str | None = None
    source_key: str | None = None  # what replaces / cancels it: "order.id=O-1"
    merged_from: str | None = None  # the earlier source a reschedule was completed from
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    def to_json(self) -> dict[str, Any]:
        out = {
            name: getattr(self, name)
            for name in _PLAN_FIELDS
            if getattr(self, name) not in (None, False, [], {})
        }
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Plan:
        data = data or {}
        known = {k: v for k, v in data.items() if k in _PLAN_FIELDS}
        return cls(**known, extra={k: v for k, v in data.items() if k not in _PLAN_FIELDS})

    def copy(self) -> Plan:
        return Plan.from_json(self.to_json())


_PLAN_FIELDS = tuple(name for name in Plan.__dataclass_fields__ if name != "extra")


@dataclass(slots=True)
class JournalRow:
    event_id: str
    event_type: str
    rule: str
    recipient_role: str
    channel: str
    status: str
    created_at: datetime
    due_at: datetime | None
    recipient_id: str | None = None
    recipient_name: str | None = None
    provider: str | None = None
    address: str | None = None
    subject: str | None = None
    text: str | None = None
    segments: int | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    error: str | None = None
    attempts: int = 0
    provider_message_id: str | None = None
    reason: str | None = None
    delivered_at: datetime | None = None
    receipt: str | None = None  # the provider's last delivery status, in its own words
    id: int | None = None
    # not in the public columns: what the dispatcher needs to send or re-plan the row
    order_id: str | None = None
    html: str | None = None
    plan: Plan = field(default_factory=Plan)
    receipt_poll_at: datetime | None = None  # when the receipt poller asks the provider next

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        out = {name: data[name] for name in JOURNAL_COLUMNS}
        for name in ("created_at", "due_at", "sent_at", "failed_at", "delivered_at"):
            out[name] = rfc3339(out[name])
        return out


@dataclass(slots=True)
class StopEntry:
    who: str  # the value: customer id, E.164 phone, e-mail or chat id
    who_kind: str  # customer | phone | email | chat
    event_type: str = "*"
    channel: str = "*"
    reason: str = ""
    author: str = ""
    created_at: datetime | None = None
    id: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "who": self.who,
            "who_kind": self.who_kind,
            "event_type": self.event_type,
            "channel": self.channel,
            "reason": self.reason,
            "author": self.author,
            "created_at": rfc3339(self.created_at),
        }

    @property
    def key(self) -> str:
        return f"{self.who_kind}:{self.who}"


@dataclass(slots=True)
class StoredRule:
    name: str
    event: str
    definition: dict[str, Any]  # the validated rule keys (docs/rules.md), as imported
    blocked: bool = False
    id: int | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class TelegramLink:
    chat_id: int
    user_id: int | None
    phone: str | None
    customer_id: str | None = None
    staff_id: str | None = None
    language: str | None = None
    active: bool = True
    updated_at: datetime | None = None


@dataclass(slots=True)
class InboxItem:
    staff_id: str
    text: str
    created_at: datetime
    journal_id: int | None = None
    subject: str | None = None
    read_at: datetime | None = None
    id: int | None = None


@dataclass(slots=True)
class StoredEvent:
    id: str
    type: str
    occurred_at: datetime
    received_at: datetime
    payload: dict[str, Any]
    order_id: str | None = None
    order_number: str | None = None


@dataclass(slots=True)
class RuleChange:
    """Who changed a rule, how and when (shown by the bot's /rules show)."""

    rule_name: str
    action: str  # created | updated | blocked | unblocked | deleted | imported
    author: str
    at: datetime
    rule_id: int | None = None
    id: int | None = None


@dataclass(slots=True)
class DialogueState:
    """One chat's bot dialogue (aiogram FSM state and data), kept in the database."""

    key: str
    state: str | None
    data: dict[str, Any]
    updated_at: datetime


@dataclass(slots=True)
class ConversationMessage:
    """One message between a customer and the staff, in either direction."""

    direction: str  # in (customer -> staff) | out (staff -> customer)
    channel: str  # telegram | sms
    customer_key: str  # customer id, or chat:<id> / phone:+7... for someone not in the directory
    source_chat_id: int  # where it was written (0 for an SMS)
    source_message: str  # Telegram message id, or the SMS's key
    status: str  # received | delivered | failed | throttled | stopped
    created_at: datetime
    customer_id: str | None = None
    customer_chat_id: int | None = None
    phone: str | None = None
    modem: str | None = None
    staff_user_id: int | None = None
    staff_name: str | None = None
    kind: str = "text"
    text: str | None = None
    reply_to_journal_id: int | None = None
    error: str | None = None
    delivered_message: int | None = None
    id: int | None = None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = rfc3339(self.created_at)
        return data


@dataclass(slots=True)
class ForumTopic:
    """The staff chat's forum topic of one customer."""

    staff_chat_id: int
    customer_key: str
    thread_id: int
    name: str
    header: str = ""
    created_at: datetime | None = None
