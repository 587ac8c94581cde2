"""The storage interface: everything the core persists, behind one abstract class.

A :class:`Storage` hands out transactions (:class:`Tx`). Every query is a method of ``Tx``;
handlers and the dispatcher never see SQL. ``Storage.write(job)`` runs ``job(tx)`` in a
write transaction and returns once it is durably committed; backends may commit several
concurrent jobs together (group commit) while keeping each job all-or-nothing.

Implementations: ``storage/sqlite.py`` (aiosqlite, WAL) and ``storage/postgres.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from storage.models import (
    ConversationMessage,
    DialogueState,
    ForumTopic,
    InboxItem,
    JournalRow,
    Person,
    RuleChange,
    StopEntry,
    StoredEvent,
    StoredRule,
    TelegramLink,
)

T = TypeVar("T")


class StorageUnavailable(Exception):
    """The database cannot be reached; intake answers 503 so the ERP retries."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer Vestnik than this one."""


class DatabaseInUse(Exception):
    """Another ``vestnik serve`` already sends from this SQLite database (``pid``: its process)."""

    def __init__(self, path: str, pid: int | None) -> None:
        super().__init__(f"database {path} is used by another vestnik serve (PID {pid})")
        self.path = path
        self.pid = pid


class JournalFilter(dict[str, Any]):
    """Keys: status, channel, since (datetime), address, order (id or number), event_id,
    text (substring), limit (default 50), before_id (paging)."""


@dataclass(slots=True)
class JournalSearch:
    """The web journal's query: every field given narrows it. The search alternatives
    (``addresses``, ``order``, ``event_id``, ``recipient_ids``, ``row_id``) are OR-ed: one
    search box value may be a phone, an order number or an event id at once."""

    statuses: tuple[str, ...] = ()
    channel: str | None = None
    event_type: str | None = None
    rule: str | None = None
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at < until
    addresses: tuple[str, ...] = ()
    order: str | None = None  # order id or number
    event_id: str | None = None
    recipient_ids: tuple[str, ...] = ()
    row_id: int | None = None
    searching: bool = False  # a search was asked: no alternative found means no rows

    @property
    def alternatives(self) -> bool:
        return bool(
            self.addresses
            or self.order
            or self.event_id
            or self.recipient_ids
            or self.row_id is not None
        )


class ConversationQueries(abc.ABC):
    """The conversations between customers and staff (part of every :class:`Tx`)."""

    @abc.abstractmethod
    async def claim_conversation_message(self, message: ConversationMessage) -> int | None:
        """Insert; None when (source_chat_id, source_message) is stored already: another
        process (or an earlier try) handles that inbound message."""

    @abc.abstractmethod
    async def update_conversation_message(self, message_id: int, **fields: Any) -> None:
        """Set status, error, delivered_message, customer_id, customer_key."""

    @abc.abstractmethod
    async def add_conversation_copy(
        self, message_id: int, chat_id: int, copy_message_id: int
    ) -> None: ...

    @abc.abstractmethod
    async def find_conversation_by_copy(
        self, chat_id: int, copy_message_id: int
    ) -> ConversationMessage | None:
        """The message whose copy (or header) in ``chat_id`` has that id; for a staff reply
        also the reply the bot delivered to the customer (``delivered_message``)."""

    @abc.abstractmethod
    async def find_delivered_reply(
        self, customer_chat_id: int, delivered_message: int
    ) -> ConversationMessage | None:
        """The staff reply that became ``delivered_message`` in the customer's chat."""

    @abc.abstractmethod
    async def latest_inbound(self, customer_key: str) -> ConversationMessage | None: ...

    @abc.abstractmethod
    async def count_inbound_since(self, customer_key: str, since: datetime) -> int: ...

    @abc.abstractmethod
    async def list_conversation(
        self, *, customer_key: str | None = None, limit: int = 50
    ) -> list[ConversationMessage]:
        """Newest first."""

    @abc.abstractmethod
    async def get_topic(self, staff_chat_id: int, customer_key: str) -> ForumTopic | None: ...

    @abc.abstractmethod
    async def find_topic_by_thread(
        self, staff_chat_id: int, thread_id: int
    ) -> ForumTopic | None: ...

    @abc.abstractmethod
    async def save_topic(self, topic: ForumTopic) -> ForumTopic:
        """Insert or replace the customer's topic; returns what is stored."""

    @abc.abstractmethod
    async def set_topic_header(
        self, staff_chat_id: int, customer_key: str, header: str
    ) -> None: ...

    @abc.abstractmethod
    async def customer_order_events(
        self, customer_id: str, *, limit: int = 500
    ) -> list[StoredEvent]:
        """Every stored event of the orders this customer appears in (by the event's
        customer id or by a journal row addressed to them), oldest first."""

    @abc.abstractmethod
    async def find_journal_by_message(
        self, channel: str, address: str, provider_message_id: str
    ) -> JournalRow | None:
        """The row whose send produced that message (a reply to a notification)."""


class Tx(ConversationQueries, abc.ABC):
    """One transaction. All methods are awaited inside ``async with storage.transaction()``."""

    # events and the directory ------------------------------------------------------------
    @abc.abstractmethod
    async def existing_events(self, ids: Sequence[str]) -> set[str]: ...

    @abc.abstractmethod
    async def insert_event(self, event: StoredEvent) -> None: ...

    @abc.abstractmethod
    async def get_event(self, event_id: str) -> StoredEvent | None: ...

    @abc.abstractmethod
    async def event_type_seen(self, event_type: str) -> bool:
        """Whether any stored event has this type (typo checks at rule import)."""

    @abc.abstractmethod
    async def upsert_person(self, person: Person) -> Person:
        """Merge: fields given (not None) overwrite, others keep their stored value."""

    @abc.abstractmethod
    async def get_person(self, kind: str, person_id: str) -> Person | None:
        """The person with this id, or the one an id merged away now belongs to (an alias)."""

    @abc.abstractmethod
    async def merge_customer(self, alias: str, into: str) -> dict[str, int]:
        """One person, one identity: the customer ``alias`` (a Telegram-made ``phone:+7...``)
        becomes ``into``. Fields ``into`` lacks are taken over, its Telegram links and stop
        entries move, ``alias`` is kept as an alias (rows planned under it still find the
        person); the journal is left as recorded. Returns what moved, by table; empty (one
        indexed look-up, no writes) when nothing is known under ``alias``."""

    @abc.abstractmethod
    async def find_person_by_phone(self, kind: str, phone: str) -> Person | None: ...

    @abc.abstractmethod
    async def list_persons(
        self, kind: str, *, with_birthday: bool = False, limit: int | None = None
    ) -> list[Person]: ...

    @abc.abstractmethod
    async def persons_born_on(self, kind: str, month_days: Sequence[str]) -> list[Person]:
        """Persons whose birthday (``YYYY-MM-DD`` or ``--MM-DD``) falls on one of
        ``month_days`` (``"MM-DD"``): the daily birthday job."""

    # telegram links ------------------------------------------------------------------------
    @abc.abstractmethod
    async def upsert_link(self, link: TelegramLink) -> None: ...

    @abc.abstractmethod
    async def get_link(self, chat_id: int) -> TelegramLink | None: ...

    @abc.abstractmethod
    async def find_active_link(
        self,
        *,
        customer_id: str | None = None,
        staff_id: str | None = None,
        phone: str | None = None,
    ) -> TelegramLink | None: ...

    @abc.abstractmethod
    async def set_link_active(self, chat_id: int, active: bool) -> None: ...

    # stop list -------------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_stop(self, entry: StopEntry) -> StopEntry: ...

    @abc.abstractmethod
    async def remove_stop(self, entry_id: int) -> bool: ...

    @abc.abstractmethod
    async def remove_stops_for(self, who_kind: str, who: str, *, author: str | None = None) -> int:
        """Remove every entry for this person (by author, if given); /start re-subscribes."""

    @abc.abstractmethod
    async def list_stops(self, *, limit: int = 100, offset: int = 0) -> list[StopEntry]: ...

    @abc.abstractmethod
    async def find_stop(
        self, keys: Sequence[str], event_type: str, channel: str
    ) -> StopEntry | None:
        """The first entry whose ``who_kind:who`` is in ``keys`` and that covers the type and
        channel (``*`` covers all)."""

    # rules -----------------------------------------------------------------------------------
    @abc.abstractmethod
    async def upsert_rules(self, rules: Sequence[StoredRule]) -> tuple[int, int]:
        """Insert or update by name; returns (created, updated). Bumps the rules revision."""

    @abc.abstractmethod
    async def list_rules(self) -> list[StoredRule]: ...

    @abc.abstractmethod
    async def get_rule(self, ref: int | str) -> StoredRule | None: ...

    @abc.abstractmethod
    async def set_rule_blocked(self, rule_id: int, blocked: bool) -> bool: ...

    @abc.abstractmethod
    async def delete_rule(self, rule_id: int) -> bool: ...

    @abc.abstractmethod
    async def rules_revision(self) -> int: ...

    @abc.abstractmethod
    async def update_rule(self, rule_id: int, rule: StoredRule, now: datetime) -> bool:
        """Rewrite one rule by id (name included); bumps the rules revision."""

    @abc.abstractmethod
    async def add_rule_change(self, change: RuleChange) -> None: ...

    @abc.abstractmethod
    async def list_rule_changes(self, rule_id: int, *, limit: int = 20) -> list[RuleChange]:
        """The newest first."""

    @abc.abstractmethod
    async def latest_event(self, types: Sequence[str]) -> StoredEvent | None:
        """The most recent stored event of one of ``types`` (by occurred_at)."""

    # bot dialogues (the aiogram FSM store) -------------------------------------------------------
    @abc.abstractmethod
    async def get_dialogue(self, key: str) -> DialogueState | None: ...

    @abc.abstractmethod
    async def set_dialogue_state(self, key: str, state: str | None, now: datetime) -> None: ...

    @abc.abstractmethod
    async def set_dialogue_data(self, key: str, data: dict[str, Any], now: datetime) -> None: ...

    @abc.abstractmethod
    async def purge_dialogues(self, before: datetime) -> int:
        """Forget dialogues untouched since ``before`` (abandoned wizards)."""

    # journal ---------------------------------------------------------------------------------
    @abc.abstractmethod
    async def insert_journal(self, rows: Sequence[JournalRow]) -> list[int]: ...

    async def insert_journal_bulk(self, rows: Sequence[JournalRow]) -> None:
        """Insert without reporting ids (backends may batch it)."""
        await self.insert_journal(rows)

    @abc.abstractmethod
    async def get_journal(self, row_id: int) -> JournalRow | None: ...

    @abc.abstractmethod
    async def list_journal(self, flt: JournalFilter) -> list[JournalRow]: ...

    @abc.abstractmethod
    async def resend(self, row_id: int, now: datetime) -> JournalRow | None:
        """Clear sent_at, failed_at, error (and attempts); the row is pending, due now."""

    @abc.abstractmethod
    async def update_planned(self, row: JournalRow) -> None:
        """Rewrite a not-yet-sent row's address, channel, text, due_at, status, reason."""

    @abc.abstractmethod
    async def scheduled_rows(
        self,
        *,
        order_id: str | None = None,
        event_types: Sequence[str] = (),
        source_key: str | None = None,
    ) -> list[JournalRow]: ...

    @abc.abstractmethod
    async def cancel_rows(self, row_ids: Sequence[int], reason: str) -> int: ...

    @abc.abstractmethod
    async def upcoming(self, until: datetime, *, limit: int = 1000) -> list[JournalRow]:
        """Rows that will be sent by ``until`` (pending/scheduled, not sent or failed), in
        due order: ``vestnik preview``."""

    @abc.abstractmethod
    async def purge_journal(self, before: datetime) -> int: ...

    @abc.abstractmethod
    async def counts(self) -> dict[str, dict[str, int]]:
        """{channel: {status: n}} for metrics and /status."""

    # the web pages -------------------------------------------------------------------------
    @abc.abstractmethod
    async def search_journal(
        self, search: JournalSearch, *, offset: int = 0, limit: int = 50, newest_first: bool = True
    ) -> list[JournalRow]:
        """One page of the rows matching ``search``, by id (insertion time)."""

    @abc.abstractmethod
    async def count_journal(self, search: JournalSearch, *, cap: int) -> int:
        """How many rows match, counted up to ``cap`` (``cap`` + 1 means "more")."""

    @abc.abstractmethod
    async def due_counts(self, until: datetime) -> dict[str, int]:
        """{channel: rows that may still be sent and are due by ``until``}."""

    @abc.abstractmethod
    async def search_stops(
        self, text: str, *, limit: int = 100, offset: int = 0
    ) -> list[StopEntry]:
        """Stop list entries whose who, type, channel, reason or author contain ``text``."""

    @abc.abstractmethod
    async def get_stop(self, entry_id: int) -> StopEntry | None: ...

    @abc.abstractmethod
    async def customer_ids_named(self, text: str, *, limit: int = 200) -> list[str]:
        """Ids of customers whose name contains ``text`` (case-insensitive)."""

    @abc.abstractmethod
    async def use_login_token(self, token_id: str, now: datetime, expires_at: datetime) -> bool:
        """Record a one-time login link as used; False when it was used before. Links
        past their expiry are forgotten (they are refused by their signature's time)."""

    # dispatcher ------------------------------------------------------------------------------
    @abc.abstractmethod
    async def claim_due(
        self, *, now: datetime, channel: str, limit: int, owner: str, lease_until: datetime
    ) -> list[JournalRow]:
        """Take up to ``limit`` rows of ``channel`` that are due (pending/scheduled with
        due_at <= now, or sending with an expired lease), never one with sent_at or
        failed_at set; mark them ``sending`` under ``owner`` until ``lease_until``."""

    @abc.abstractmethod
    async def recover_expired(self, now: datetime) -> int:
        """Rows left ``sending`` by a dead process (lease expired) become pending again."""

    @abc.abstractmethod
    async def due_by_channel(self, channels: Sequence[str]) -> dict[str, datetime]:
        """{channel: earliest due_at} of the rows that may still be sent (pending/scheduled,
        no sent_at/failed_at), for each of ``channels`` that has one: the dispatcher claims
        only channels with something due. One indexed lookup per channel (a GROUP BY over
        the whole queue would scan it)."""

    @abc.abstractmethod
    async def finish(self, row_id: int, owner: str, **fields: Any) -> bool:
        """Record an outcome on a row this owner holds (status, sent_at, failed_at, error,
        attempts, provider, provider_message_id, segments, due_at, reason, lease cleared).
        False if the lease was lost."""

    @abc.abstractmethod
    async def release_owner(self, owner: str) -> int:
        """Clean shutdown: rows still ``sending`` under ``owner`` go back to pending."""

    @abc.abstractmethod
    async def settle_sending(self, owners: Sequence[str] | None = None) -> int:
        """Rows left ``sending`` by processes known to be dead (``owners``; None: every such
        row, for a database only one process sends from) become pending again."""

    # delivery receipts and alerts (storage/sql_receipts.py) ---------------------------------
    @abc.abstractmethod
    async def rows_by_provider_ids(
        self, provider: str, message_ids: Sequence[str]
    ) -> list[JournalRow]:
        """Rows that ``provider`` (portal or modem name) accepted under these message ids."""

    @abc.abstractmethod
    async def record_receipt(
        self, row_id: int, *, status: str, receipt: str, at: datetime, error: str | None = None
    ) -> bool:
        """A final receipt: a ``sent`` row becomes ``delivered`` (delivered_at) or
        ``undelivered`` (failed_at, error). False when the row is not ``sent`` (a replay)."""

    @abc.abstractmethod
    async def note_receipt(self, row_id: int, receipt: str) -> bool:
        """A non-final receipt ("still trying"): only ``receipt`` changes. False when the row
        is not ``sent`` or already says so (a replay)."""

    @abc.abstractmethod
    async def due_receipt_polls(self, now: datetime, limit: int) -> list[JournalRow]:
        """``sent`` rows whose ``receipt_poll_at`` has come, earliest first."""

    @abc.abstractmethod
    async def set_receipt_poll(self, row_id: int, at: datetime | None) -> None: ...

    @abc.abstractmethod
    async def failures_since(self, since: datetime, *, limit: int = 1000) -> list[JournalRow]:
        """Rows failed or undelivered at or after ``since`` (by failed_at, id), oldest first."""

    @abc.abstractmethod
    async def digest_counts(
        self, since: datetime, until: datetime
    ) -> dict[tuple[str, str], dict[str, int]]:
        """{(channel, rule): {"sent": n, "delivered": n, "failed": n}} in (since, until]."""

    @abc.abstractmethod
    async def top_errors(self, since: datetime, *, limit: int = 5) -> list[tuple[str, int]]: ...

    # inbox -------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def add_inbox(self, item: InboxItem) -> int:
        """Store a staff message; one per journal row (a repeat returns the stored id)."""

    @abc.abstractmethod
    async def list_inbox(
        self, staff_id: str, *, limit: int = 10, unread_only: bool = False
    ) -> list[InboxItem]: ...

    @abc.abstractmethod
    async def mark_inbox_read(self, ids: Sequence[int], now: datetime) -> None: ...

    # small key/value facts (last daily scan, ...) -----------------------------------------------
    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...

    # signed webhook deliveries ------------------------------------------------------------------
    @abc.abstractmethod
    async def remember_delivery(self, webhook_id: str, now: datetime, keep_until: datetime) -> bool:
        """Record a Standard Webhooks ``webhook-id``; False when it was seen already (a
        replay). Ids whose ``keep_until`` passed are forgotten on the way."""

    @abc.abstractmethod
    async def forget_deliveries(self, now: datetime) -> int:
        """Drop the recorded ids whose ``keep_until`` has passed."""


class Storage(abc.ABC):
    """A database. ``open()`` connects and migrates; ``close()`` releases everything."""

    url: str
    # one Telegram rate budget shared by every process (senders/telegram_limits.py); a backend
    # that sets it also implements reserve_slot / pause_bucket / bucket_paused_for
    shared_pacing: bool = False

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The migration number the database is at (``vestnik migrate``, ``check-config``)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> bool: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A write transaction: committed on clean exit, rolled back on an exception."""

    @abc.abstractmethod
    def reader(self) -> AbstractAsyncContextManager[Tx]:
        """A read-only view (may run beside a writer)."""

    async def write(self, job: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``job`` in a write transaction and return once it is durably committed."""
        async with self.transaction() as tx:
            return await job(tx)

    # cross-process signals (PostgreSQL LISTEN/NOTIFY; in-process for SQLite) --------------------
    def add_wakeup_listener(self, callback: Callable[[], None]) -> None:
        """``callback`` is called when another process commits new due rows."""
        return None

    async def notify_new_rows(self) -> None:
        """Tell other processes new rows were committed (no-op for single-process backends)."""
        return None

    # live senders (a crash is settled at once, not after a lease) -----------------------------
    async def register_sender(self, owner: str) -> int:
        """This process is about to claim rows as ``owner``. SQLite: take the database's
        serve lock (:class:`DatabaseInUse` names the other process) and settle every row a
        dead run left ``sending``; PostgreSQL: become visible as a live owner. Returns the
        rows settled."""
        return 0

    async def recover_dead_senders(self) -> int:
        """Rows held by owners that are no longer alive become pending (PostgreSQL's leader
        calls it every few seconds; nothing to do where one process sends)."""
        return 0

    # leadership for periodic jobs (a PostgreSQL advisory lock; always true for SQLite) ----------
    async def try_leadership(self) -> bool:
        return True

    @property
    def is_leader(self) -> bool:
        """Whether this process runs the periodic jobs now (``/healthz``)."""
        return True
