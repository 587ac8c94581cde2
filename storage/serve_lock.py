"""One ``vestnik serve`` per SQLite database file: an exclusive ``flock`` on
``<database>-serve.lock``, which holds the PID of the process that has it. The kernel drops
the lock when the descriptor closes, also when the process is killed, so a restarted service
knows every row still ``sending`` belongs to a dead run."""

from __future__ import annotations

import os

from storage.base import DatabaseInUse


def take_serve_lock(path: str) -> int | None:
    """An exclusive lock on ``<path>-serve.lock`` holding our PID (released when the file
    descriptor closes, also when the process dies); :class:`DatabaseInUse` when another
    process holds it."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock (documented)
        return None
    fd = os.open(f"{path}-serve.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise DatabaseInUse(path, int(text) if text.isdigit() else None) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
