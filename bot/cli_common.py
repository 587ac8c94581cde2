"""What every ``vestnik`` command shares: exit statuses, the three kinds of error (usage,
bad argument, failure) and opening the database without ever creating one by accident."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.core.config import Config
from storage.base import Storage
from storage.open import open_storage

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line itself is wrong (printed as ``usage: ...``): exit status 2."""


class BadArgument(Exception):
    """An argument's value is wrong, or the configuration names something missing: the
    message is printed as ``error: ...``, exit status 2 (it is not about usage)."""


class CommandError(Exception):
    """The command could not do its job: ``error: ...``, exit status 1."""


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def missing_database(config: Config) -> str | None:
    """Why the command cannot run: the SQLite file the config names does not exist (only
    ``serve`` and ``migrate`` create one; the rest would show an empty, new database)."""
    url = config.service.database
    if not url.startswith("sqlite://"):
        return None  # PostgreSQL: the server says whether the database exists
    from storage.sqlite import sqlite_path

    path = sqlite_path(url)[0]
    if path == ":memory:" or Path(path).exists() or not Path(path).parent.is_dir():
        return None  # (a missing directory: the storage itself refuses, and says so)
    where = "" if Path(path).is_absolute() else f", relative to the working directory {Path.cwd()}"
    return (
        f"no database at {Path(path).resolve()} (service.database = {url!r}{where}): "
        "run `vestnik migrate` or `vestnik serve` to create it, or give --config with "
        "the right database"
    )


@asynccontextmanager
async def opened(config: Config, *, create: bool = False) -> AsyncIterator[Storage]:
    if not create:
        problem = missing_database(config)
        if problem is not None:
            raise BadArgument(problem)
    storage = open_storage(config.service.database)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()
