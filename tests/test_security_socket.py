"""``vestnik serve``'s socket against idle and abusive clients: the connection cap answers
503, slow or idle connections are closed, a descriptor limit never turns into a flood of
accept() tracebacks, a vanished client is one line."""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.smtp import free_port
from tests.hostile import ROOT, write_config


def serve(config: str, *, nofile: int | None = None) -> subprocess.Popen[str]:
    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--config", config],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=limit,
    )


async def wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90  # a loaded machine imports slowly
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("vestnik serve did not start")


async def status_of(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/healthz") as response:
            return response.status, await response.text()


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


async def test_the_connection_cap_answers_503_and_idle_connections_are_closed(tmp_path: Path):
    port = free_port()
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "sqlite:///{tmp_path}/v.db"
[webhook]
listen = "127.0.0.1:{port}"
max_connections = 8
header_timeout = 2
""",
    )
    url = f"http://127.0.0.1:{port}"
    proc = serve(config)
    try:
        await wait_up(url, proc)
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(8)]
        await asyncio.sleep(0.2)  # (the server registers them as they are accepted)
        status, text = await status_of(url)
        assert status == 503 and json.loads(text)["error"] == "too_many_connections"
        assert "more than 8 open connections" in text
        # the idle ones (one with half a request) are closed by the server, not kept forever
        idle[0][1].write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for reader, _ in idle:
            await asyncio.wait_for(reader.read(), 60)  # returns when the server closes it
            assert reader.at_eof()
        for _, writer in idle:
            writer.close()
        for _ in range(100):  # then there is room again
            status, _ = await status_of(url)
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert status == 200
        # a client that sends half a body and vanishes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"id":'
        )
        await writer.drain()
        writer.transport.abort()
        await asyncio.sleep(0.5)
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "Traceback" not in out, out


async def test_a_low_descriptor_limit_lowers_the_cap_instead_of_failing_accept(tmp_path: Path):
    port = free_port()
    config = write_config(
        tmp_path / "config.toml",
        f"""
[service]
database = "sqlite:///{tmp_path}/v.db"
[webhook]
listen = "127.0.0.1:{port}"
max_connections = 1000
""",
    )
    url = f"http://127.0.0.1:{port}"
    proc = serve(config, nofile=160)
    try:
        await wait_up(url, proc)
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(150)]
        # a loaded machine may take a while to accept them all (the kernel's queue holds the
        # rest): ask until the cap is reached, a bounded wait, not a fixed sleep
        deadline = time.monotonic() + 10
        status, text = await status_of(url)
        while status != 503 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status, text = await status_of(url)
        assert status == 503 and "too_many_connections" in text
        for _, writer in idle:
            writer.close()
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "file descriptors are allowed (ulimit -n 160)" in out
    assert "Traceback" not in out and out.count("accept()") <= 2, out[-3000:]


async def test_accept_failures_are_reported_once_per_interval_with_a_count(caplog):
    """What asyncio reports when accept() fails for lack of descriptors (it does so for each
    failure) becomes one line per interval."""
    import errno
    import logging

    from bot.serving import AcceptErrorReporter

    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(AcceptErrorReporter())
    try:
        with caplog.at_level(logging.INFO, logger="vestnik.http"):
            for _ in range(1000):
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(errno.EMFILE, "Too many open files"),
                    }
                )
            loop.call_exception_handler(
                {
                    "message": "Error on reading from the event loop",
                    "exception": ConnectionResetError(104, "reset"),
                }
            )
    finally:
        loop.set_exception_handler(previous)
    lines = [r.getMessage() for r in caplog.records if r.name == "vestnik.http"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("1 accept() failures") and "Too many open files" in lines[0]
    assert lines[1].startswith("a client went away")
    assert not any(r.exc_info for r in caplog.records)
