"""The SQLite database file as the operating system sees it: is the file we have open still
the one at the configured path? A deleted directory (``rm -r``) or a file replaced under us
leaves our descriptors writing into an unlinked inode: every commit would "succeed" and be
lost. The storage checks :meth:`DatabaseFile.problem` on a timer and after each commit, and
answers :class:`StorageUnavailable` (the intake's 503) from then on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("vestnik.storage")


class MissingDirectory(OSError):
    """The configured database's directory does not exist: we refuse to start afresh."""


class DatabaseFile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        self.lost: str | None = None  # once lost, stays lost until the storage reopens

    @property
    def in_memory(self) -> bool:
        return self.path == ":memory:" or self.path.startswith("file::memory:")

    def before_open(self) -> bool:
        """Refuse a missing directory; True when there is no database file yet (new)."""
        if self.in_memory:
            return False
        folder = Path(self.path).resolve().parent
        if not folder.is_dir():
            raise MissingDirectory(
                f"the directory {folder} of the SQLite database does not exist: refusing to "
                "create a new, empty database (was it deleted? restore it, or create the "
                "directory to start with an empty database)"
            )
        return not Path(self.path).exists()

    def opened(self, created: bool) -> None:
        if self.in_memory:
            return
        if created:
            log.warning(
                "NEW DATABASE created at %s (there was no database file at this path)",
                os.path.abspath(self.path),
            )
        stat = os.stat(self.path)
        self.identity = (stat.st_dev, stat.st_ino)
        self.lost = None

    def problem(self) -> str | None:
        """None while the path still names the file we opened; else what happened."""
        if self.identity is None:
            return None
        if self.lost is None:
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                self.lost = (
                    f"the database file {self.path} was deleted while the service "
                    "ran: nothing is stored until it is restored and the service "
                    "restarted"
                )
            except OSError as exc:
                self.lost = f"the database file {self.path} cannot be checked: {exc}"
            else:
                if (stat.st_dev, stat.st_ino) != self.identity:
                    self.lost = (
                        f"the database file {self.path} was replaced while the "
                        "service ran: restart the service to open the new one"
                    )
            if self.lost is not None:
                log.error("storage: %s", self.lost)
        return self.lost
