"""A small IMAP4rev1 server on 127.0.0.1 for the bounce mailbox: the commands a client needs
to read unseen mail (CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH RFC822, STORE +FLAGS,
LOGOUT), one mailbox, plain TCP. Wrong credentials get ``NO``; ``messages`` and ``seen`` are
the test's view of the mailbox."""

from __future__ import annotations

import asyncio
from typing import Self


class ImapServer:
    def __init__(self, username: str = "bounces", password: str = "imap-PW-77") -> None:
        self.username = username
        self.password = password
        self.messages: list[bytes] = []
        self.seen: set[int] = set()  # 1-based sequence numbers
        self.logins = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    def deliver(self, raw: bytes) -> None:
        self.messages.append(raw)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
        authed = False
        try:
            while line := await reader.readline():
                tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
                command, _, args = rest.partition(" ")
                command = command.upper()
                if command == "CAPABILITY":
                    writer.write(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n".encode())
                elif command == "LOGIN":
                    user, _, password = args.partition(" ")
                    if (user.strip('"'), password.strip('"')) == (self.username, self.password):
                        authed = True
                        self.logins += 1
                        writer.write(f"{tag} OK logged in\r\n".encode())
                    else:
                        writer.write(f"{tag} NO [AUTHENTICATIONFAILED] bad login\r\n".encode())
                elif command == "LOGOUT":
                    writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                    break
                elif not authed:
                    writer.write(f"{tag} BAD log in first\r\n".encode())
                else:
                    writer.write(self._mail(tag, command, args))
                await writer.drain()
        finally:
            writer.close()

    def _mail(self, tag: str, command: str, args: str) -> bytes:
        if command == "SELECT":
            return (
                f"* {len(self.messages)} EXISTS\r\n* FLAGS (\\Seen)\r\n"
                f"{tag} OK [READ-WRITE] selected\r\n"
            ).encode()
        if command == "SEARCH":
            unseen = [str(n) for n in range(1, len(self.messages) + 1) if n not in self.seen]
            return f"* SEARCH {' '.join(unseen)}\r\n{tag} OK done\r\n".encode()
        if command == "FETCH":
            number = int(args.split(" ", 1)[0])
            raw = self.messages[number - 1]
            return (
                f"* {number} FETCH (RFC822 {{{len(raw)}}}\r\n".encode()
                + raw
                + f")\r\n{tag} OK done\r\n".encode()
            )
        if command == "STORE":
            number = int(args.split(" ", 1)[0])
            self.seen.add(number)
            return f"* {number} FETCH (FLAGS (\\Seen))\r\n{tag} OK done\r\n".encode()
        return f"{tag} BAD unknown command\r\n".encode()
