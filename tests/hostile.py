"""Helpers for the hostile-input tests: raw HTTP bytes on a socket (headers no client library
would send) and the ``vestnik`` command line in a subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


async def raw_request(
    url: str,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    *,
    timeout: float = 20.0,
) -> tuple[int, Any]:
    """Send exactly these header bytes; returns (status, parsed JSON or text)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = [
            f"{method} {path} HTTP/1.1".encode(),
            f"Host: {parts.netloc}".encode(),
            b"Connection: close",
            f"Content-Length: {len(body)}".encode(),
        ]
        head += [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    status = int(status_line.split()[1])
    payload = rest.partition(b"\r\n\r\n")[2]
    try:
        return status, json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return status, payload.decode("utf-8", "replace")


def vestnik(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` from the project root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)
