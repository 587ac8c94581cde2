"""Shared pieces of the benchmarks: free ports, a subprocess `vestnik serve`, a load loop."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_vestnik(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--config", str(config), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(
    url: str,
    make_body: Callable[[int, int], Any],
    *,
    clients: int,
    seconds: float,
    events_per_request: int,
) -> tuple[float, int, int]:
    """``clients`` concurrent posters for ``seconds``: (events/s, requests, errors)."""
    connector = aiohttp.TCPConnector(limit=clients)
    done = errors = 0
    stop_at = time.monotonic() + seconds

    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(worker: int) -> None:
            nonlocal done, errors
            n = 0
            while time.monotonic() < stop_at:
                body = json.dumps(make_body(worker, n)).encode()
                n += 1
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    await r.read()
                    if r.status == 202:
                        done += 1
                    else:
                        errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    return done * events_per_request / elapsed, done, errors
