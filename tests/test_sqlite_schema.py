"""SQLite schema versions: a fresh file is migrated to the latest version, and a file
migrated by a newer Vestnik is refused with a clear message instead of being misread."""

from __future__ import annotations

import sqlite3

import pytest

from storage.base import SchemaTooNew
from storage.sqlite import SqliteStorage, sqlite_migrations


async def test_a_fresh_file_is_migrated_to_the_latest_version(tmp_path):
    storage = SqliteStorage(f"sqlite:///{tmp_path}/v.db")
    await storage.open()
    try:
        assert await storage.schema_version() == sqlite_migrations()[-1][0]
    finally:
        await storage.close()


async def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "v.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    storage = SqliteStorage(f"sqlite:///{path}")
    with pytest.raises(SchemaTooNew, match="schema version 999.*upgrade Vestnik"):
        await storage.open()
    await storage.close()
