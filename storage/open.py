"""Open the storage backend a database URL names (the assembly's entry to storage)."""

from __future__ import annotations

from bot.core.timeutil import Clock
from storage.base import Storage


def open_storage(url: str, clock: Clock | None = None) -> Storage:
    """Pick the backend from the URL scheme."""
    if url.startswith("sqlite://"):
        from storage.sqlite import SqliteStorage

        return SqliteStorage(url, clock)
    if url.startswith(("postgresql://", "postgres://")):
        from storage.postgres import PostgresStorage

        return PostgresStorage(url, clock)
    raise ValueError(f"unsupported database URL: {url}")
