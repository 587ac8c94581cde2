"""The storage interface: everything the core persists, behind one abstract class.

A :class:`Storage` hands out transactions (:class:`Tx`). Every query is a method of ``Tx``;
handlers and the dispatcher never see SQL. ``Storage.write(job)`` runs ``job(tx)`` in a
write transaction and returns once it is durably committed; backends may commit several
concurrent jobs together (group commit) while keeping each job all-or-nothing.

``Tx`` is composed of one protocol per area, each in the module named for it and each
implemented by the SQL mixin of the same name:

- ``storage/tx_directory.py`` — events, persons (and merged customers' aliases), Telegram
  links (``sql_directory.py``);
- ``storage/tx_journal.py`` — the journal and the dispatcher's queue, ``JournalFilter``
  (``sql_journal.py``);
- ``storage/tx_stoplist.py`` — the stop list (``sql.py``);
- ``storage/tx_rules.py`` — rules, their revision and change record (``sql.py``,
  ``sql_staff.py``);
- ``storage/tx_staff.py`` — the bot's dialogue state and the staff inbox (``sql_staff.py``,
  ``sql.py``);
- ``storage/tx_web.py`` — the web pages' queries, ``JournalSearch`` (``sql_web.py``);
- ``storage/tx_receipts.py`` — delivery receipts and alerts (``sql_receipts.py``);
- ``storage/tx_conversations.py`` — customers and staff talking (``conversations_sql.py``).

The records that cross the interface are in ``storage/models.py``. Implementations:
``storage/sqlite.py`` (aiosqlite, WAL) and ``storage/postgres.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TypeVar

from storage.tx_conversations import ConversationsTx
from storage.tx_directory import DirectoryTx
from storage.tx_journal import JournalTx
from storage.tx_receipts import ReceiptsTx
from storage.tx_rules import RulesTx
from storage.tx_staff import StaffTx
from storage.tx_stoplist import StopListTx
from storage.tx_web import WebTx

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


class Tx(
    DirectoryTx,
    StopListTx,
    RulesTx,
    StaffTx,
    JournalTx,
    WebTx,
    ReceiptsTx,
    ConversationsTx,
    abc.ABC,
):
    """One transaction. All methods are awaited inside ``async with storage.transaction()``.

    The areas' methods come from the protocols above; the two small facts below belong to
    no area."""

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
