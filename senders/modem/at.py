"""AT command transport over a serial port (pyserial-asyncio).

One command at a time (a modem ignores or garbles pipelined commands). Responses are framed
as ``\\r\\n<line>\\r\\n`` and end with a final result: ``OK``, ``ERROR``, ``+CME ERROR: <n>``,
``+CMS ERROR: <n>`` (numeric with ``AT+CMEE=1``, textual with ``=2``) or Huawei's
``COMMAND NOT SUPPORT``. The parser tolerates echo, unsolicited result codes (``^RSSI:18``,
``+CMTI: ...``) arriving between and inside commands, and both SMS prompts (``\\r\\n> `` and the
bare ``\\r\\n>\\r\\n`` of some SIMCom modules).

A command that expects an information line (``+CSQ:``) only accepts ``OK`` after that line, so
a late ``OK`` of a command that timed out earlier is not taken for the answer to this one.

When the device disappears (USB unplug) the read side raises ``serial.SerialException``; the
channel turns dead, every waiter gets :class:`PortClosed`, and the owner reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

import serial
import serial_asyncio

log = logging.getLogger(__name__)

CR = b"\r"
CTRL_Z = b"\x1a"
ESC = b"\x1b"

FINAL_OK = "OK"
# Final result lines that end a command unsuccessfully: regex -> error kind.
FINAL_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\+CME ERROR:\s*(.*)$"), "CME"),
    (re.compile(r"^\+CMS ERROR:\s*(.*)$"), "CMS"),
    (re.compile(r"^(ERROR)$"), ""),
    (re.compile(r"^(COMMAND NOT SUPPORT)$"), ""),
)

PROMPT = object()  # the "> " SMS prompt, delivered in the line queue
_CLOSED = object()  # the port is gone

DRAIN_SECONDS = 0.2
READ_CHUNK = 4096


class AtError(Exception):
    """The modem answered with an error final result."""

    def __init__(self, command: str, kind: str, code: int | None, text: str) -> None:
        self.command = command
        self.kind = kind  # "CME", "CMS" or "" for a bare ERROR
        self.code = code
        self.text = text
        label = f"+{kind} ERROR: {code if code is not None else text}" if kind else text
        super().__init__(f"{command}: {label}")


class AtTimeout(Exception):
    """No final result within the time allowed."""


class PortClosed(Exception):
    """The serial port went away (unplugged) or was closed."""


def _classify_final(line: str) -> tuple[str, int | None, str] | None:
    for pattern, kind in FINAL_ERRORS:
        match = pattern.match(line)
        if match:
            value = match.group(1).strip()
            code = int(value) if value.isdigit() else None
            return kind, code, value
    return None


class AtChannel:
    """An open serial port speaking AT. Build with :meth:`open`."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str = "modem"
    ) -> None:
        self.name = name
        self._reader = reader
        self._writer = writer
        self._lines: asyncio.Queue[object] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self.closed: BaseException | None = None
        self.on_closed: list[asyncio.Event] = []
        # unsolicited results taken out of the line stream: prefix -> (handler, trailing lines)
        self._urcs: dict[str, tuple[Callable[[str, str | None], None], int]] = {}
        self._urc_waiting: tuple[str, Callable[[str, str | None], None]] | None = None
        # every line read is also shown to these (inbound SMS watch for "+CMTI:")
        self.line_listeners: list[Callable[[str], None]] = []
        self._task = asyncio.create_task(self._read_loop(), name=f"at-reader-{name}")

    @classmethod
    async def open(cls, port: str, baudrate: int, name: str = "modem") -> AtChannel:
        """Open the port; ``serial.SerialException`` (e.g. no such device) propagates."""
        reader, writer = await serial_asyncio.open_serial_connection(url=port, baudrate=baudrate)
        return cls(reader, writer, name)

    @property
    def alive(self) -> bool:
        return self.closed is None

    # reading ------------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = await self._reader.read(READ_CHUNK)
                if not chunk:
                    raise PortClosed("end of stream")
                buffer += chunk
                buffer = self._split(buffer)
        except asyncio.CancelledError:
            self._mark_closed(PortClosed("closed"))
            raise
        except (serial.SerialException, OSError, PortClosed) as exc:
            log.warning("%s: port lost: %s", self.name, exc)
            self._mark_closed(exc)

    def _split(self, buffer: bytes) -> bytes:
        """Queue complete lines and the prompt; return the unfinished rest."""
        while True:
            stripped = buffer.lstrip(b"\r\n")
            if stripped.startswith(b">"):
                # "> " has no line end: it is recognised as soon as it arrives
                rest = stripped[1:].lstrip(b" ")
                self._lines.put_nowait(PROMPT)
                buffer = rest
                continue
            cut = min(
                (i for i in (stripped.find(b"\r"), stripped.find(b"\n")) if i >= 0), default=-1
            )
            if cut < 0:
                return stripped
            line = stripped[:cut].decode("latin-1").strip()
            buffer = stripped[cut + 1 :]
            if line:
                for listener in self.line_listeners:
                    listener(line)
            if line and not self._take_urc(line):
                self._lines.put_nowait(line)

    def on_urc(
        self, prefix: str, handler: Callable[[str, str | None], None], *, trailing: int = 0
    ) -> None:
        """Lines starting with ``prefix`` (``"+CDS:"``) go to ``handler(line, next line)``
        instead of to a command; ``trailing=1`` when a PDU line follows (``+CDS``)."""
        self._urcs[prefix] = (handler, trailing)

    def _take_urc(self, line: str) -> bool:
        if self._urc_waiting is not None:
            head, handler = self._urc_waiting
            self._urc_waiting = None
            handler(head, line)
            return True
        for prefix, (handler, trailing) in self._urcs.items():
            if line.startswith(prefix):
                if trailing:
                    self._urc_waiting = (line, handler)
                else:
                    handler(line, None)
                return True
        return False

    def _mark_closed(self, exc: BaseException) -> None:
        if self.closed is None:
            self.closed = exc
            self._lines.put_nowait(_CLOSED)
            for event in self.on_closed:
                event.set()

    async def _next(self, deadline: float) -> object:
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AtTimeout
        try:
            item = await asyncio.wait_for(self._lines.get(), remaining)
        except TimeoutError:
            raise AtTimeout from None
        if item is _CLOSED:
            self._lines.put_nowait(_CLOSED)  # every later waiter sees it too
            raise PortClosed(str(self.closed))
        return item

    # writing ------------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.closed is not None:
            raise PortClosed(str(self.closed))
        try:
            self._writer.write(data)
        except (serial.SerialException, OSError) as exc:
            self._mark_closed(exc)
            raise PortClosed(str(exc)) from exc

    # commands -----------------------------------------------------------------------------------
    async def command(self, command: str, timeout: float, prefix: str | None = None) -> list[str]:
        """Send ``command`` and return its information lines.

        ``prefix`` (``"+CSQ:"``): only lines starting with it are information, others are
        unsolicited; ``OK`` is accepted only after at least one such line.
        Raises :class:`AtError`, :class:`AtTimeout` or :class:`PortClosed`.
        """
        async with self._lock:
            deadline = asyncio.get_running_loop().time() + timeout
            self._write(command.encode("ascii") + CR)
            info: list[str] = []
            while True:
                item = await self._next(deadline)
                if item is PROMPT:
                    continue
                line = str(item)
                if line == command:  # echo
                    continue
                if line == FINAL_OK:
                    if prefix is not None and not info:
                        continue  # a stale OK from an earlier, timed-out command
                    return info
                error = _classify_final(line)
                if error is not None:
                    raise AtError(command, *error)
                if prefix is not None:
                    if line.startswith(prefix):
                        info.append(line[len(prefix) :].strip())
                    else:
                        log.debug("%s: unsolicited %r during %s", self.name, line, command)
                elif line.startswith(("+", "^")):
                    log.debug("%s: unsolicited %r during %s", self.name, line, command)
                else:
                    info.append(line)

    async def listing(self, command: str, timeout: float) -> list[str]:
        """Send ``command`` and return every line up to its ``OK`` (``AT+CMGL``: header
        lines and PDU lines alternate, so nothing is filtered; the caller pairs them)."""
        async with self._lock:
            deadline = asyncio.get_running_loop().time() + timeout
            self._write(command.encode("ascii") + CR)
            lines: list[str] = []
            while True:
                item = await self._next(deadline)
                line = str(item)
                if item is PROMPT or line == command:
                    continue
                if line == FINAL_OK:
                    return lines
                error = _classify_final(line)
                if error is not None:
                    raise AtError(command, *error)
                lines.append(line)

    async def submit_pdu(
        self, tpdu_length: int, pdu_hex: str, prompt_timeout: float, result_timeout: float
    ) -> int:
        """``AT+CMGS=<n>``, wait for the prompt, send the PDU and Ctrl-Z; return TP-MR."""
        command = f"AT+CMGS={tpdu_length}"
        async with self._lock:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + prompt_timeout
            self._write(command.encode("ascii") + CR)
            while True:
                try:
                    item = await self._next(deadline)
                except AtTimeout:
                    raise AtTimeout(
                        f"no '>' prompt after {command} within {prompt_timeout:g} s;"
                        " nothing was sent"
                    ) from None
                if item is PROMPT:
                    break
                line = str(item)
                error = _classify_final(line)
                if error is not None:
                    raise AtError(command, *error)
                # echo, URCs and stale OKs are not the prompt
            self._write(pdu_hex.encode("ascii") + CTRL_Z)
            deadline = loop.time() + result_timeout
            reference: int | None = None
            while True:
                try:
                    item = await self._next(deadline)
                except AtTimeout:
                    raise AtTimeout(
                        f"no answer to the SMS within {result_timeout:g} s; it may "
                        "have been sent all the same"
                    ) from None
                if item is PROMPT:
                    continue
                line = str(item)
                if line.startswith("+CMGS:"):
                    value = line[len("+CMGS:") :].strip().split(",")[0]
                    if value.isdigit():
                        reference = int(value)
                    continue
                if line == FINAL_OK:
                    if reference is None:
                        continue  # stale OK; ours comes after +CMGS
                    return reference
                error = _classify_final(line)
                if error is not None:
                    raise AtError(command, *error)

    async def escape(self) -> None:
        """ESC leaves a pending SMS prompt; whatever arrives meanwhile is dropped."""
        async with self._lock:
            self._write(ESC + CR)
            await asyncio.sleep(DRAIN_SECONDS)
            self._drain()

    async def resync(self, timeout: float) -> None:
        """After a timeout: :meth:`escape`, then a command whose answer cannot be stale."""
        await self.escape()
        await self.command("AT+CSQ", timeout, prefix="+CSQ:")

    def _drain(self) -> None:
        while not self._lines.empty():
            item = self._lines.get_nowait()
            if item is _CLOSED:
                self._lines.put_nowait(_CLOSED)
                return

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(Exception):
            self._writer.close()
