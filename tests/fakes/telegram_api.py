"""A fake Telegram Bot API server (aiohttp on 127.0.0.1, a free port) for a real aiogram Bot.

Point ``telegram.api_base`` at :attr:`FakeTelegram.base_url`. It serves what Vestnik uses:
``getMe``, ``getUpdates`` (long polling over a script of updates pushed by the test),
``deleteWebhook``/``setWebhook``, ``setMyCommands``, ``sendMessage``, ``getFile`` and file
downloads, and for inline keyboards ``answerCallbackQuery`` and ``editMessageText`` (an edit
changes the recorded :class:`Sent` in place and is listed in ``edits``). Every request is
recorded; every ``sendMessage`` becomes a :class:`Sent` (form fields parsed, ``reply_markup``
decoded from its JSON string).

Failures on demand:

- :meth:`fail_chat` — answer sendMessage for a chat with an error (403 blocked, 400 chat not
  found, 500...), a number of times or for ever;
- :meth:`fail_method` — a method answers 500 a number of times (an API outage);
- :meth:`flood` — the next N sendMessage calls get 429 with ``parameters.retry_after``;
- ``rate_limit`` — at most that many accepted messages in any one second (sliding window);
  more gets 429 ``retry_after`` = the seconds until the window frees, and until then every
  send gets 429 too, like Telegram's flood control. ``early_retries`` counts sends that came
  back before the ``retry_after`` they were told had passed.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "42:TEST-token_for_vestnik"
BOT_ID = 42
BOT_USERNAME = "vestnik_test_bot"


@dataclass
class Sent:
    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    message_id: int
    at: float  # time.monotonic() when accepted
    fields: dict[str, str] = field(default_factory=dict)
    method: str = "sendMessage"  # or copyMessage (text is then the copied text or caption)

    @property
    def thread_id(self) -> int | None:
        value = self.fields.get("message_thread_id")
        return int(value) if value else None

    @property
    def reply_to(self) -> int | None:
        raw = self.fields.get("reply_parameters")
        if raw:
            return int(json.loads(raw)["message_id"])
        value = self.fields.get("reply_to_message_id")
        return int(value) if value else None


@dataclass
class Failure:
    code: int
    description: str
    times: int | None  # None: for ever
    retry_after: int | None = None


class FakeTelegram:
    def __init__(
        self,
        *,
        token: str = TOKEN,
        username: str = BOT_USERNAME,
        rate_limit: float | None = None,
        hold_updates: float = 1.0,
    ) -> None:
        self.token = token
        self.username = username
        self.rate_limit = rate_limit
        self.hold_updates = hold_updates  # seconds an empty getUpdates waits (long polling)
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, bytes] = {}
        self.rejected: list[tuple[int, int, float]] = []  # (chat id, code, time)
        self.edits: list[Sent] = []  # every editMessageText, as the message became
        self.answered: list[dict[str, Any]] = []  # answerCallbackQuery calls
        self.early_retries = 0
        self._failures: dict[int, Failure] = {}
        self._floods: deque[int] = deque()
        self._method_failures: dict[str, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new = asyncio.Condition()
        self._window: deque[float] = deque()
        self._blocked_until = 0.0
        self._runner: web.AppRunner | None = None
        self.port = 0
        # conversations: messages the chats hold (pushed and sent), forum topics, members
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.forums: dict[int, set[int]] = {}  # forum chat id -> live topic thread ids
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self._thread_ids = itertools.count(7000)

    # lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # scripting ------------------------------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        body = update.get("message")
        if body is not None:
            self.messages[(body["chat"]["id"], body["message_id"])] = body
        async with self._new:
            self._updates.append(update)
            self._new.notify_all()
        return update["update_id"]

    def fail_chat(
        self,
        chat_id: int,
        code: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
        times: int | None = None,
    ) -> None:
        self._failures[chat_id] = Failure(code, description, times)

    def heal_chat(self, chat_id: int) -> None:
        self._failures.pop(chat_id, None)

    def flood(self, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` sendMessage calls are answered 429 retry_after."""
        self._floods.extend([retry_after] * count)

    def fail_method(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` (any chat) get 500."""
        self._method_failures[method.lower()] = times

    def make_forum(self, chat_id: int) -> None:
        """``chat_id`` is a forum supergroup (createForumTopic works there)."""
        self.forums.setdefault(chat_id, set())

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Staff deleted the topic: posting into it answers "message thread not found"."""
        self.forums[chat_id].discard(thread_id)

    def add_file(self, file_id: str, content: bytes) -> None:
        self.files[file_id] = content

    # inspection -----------------------------------------------------------------------------------
    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [fields for name, fields in self.requests if name.lower() == method.lower()]

    async def wait_sent(
        self,
        predicate: Callable[[Sent], bool] | None = None,
        *,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Sent]:
        """Wait until ``count`` sent messages match; returns them (eventual, not timed)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                s
                for s in self.sent
                if (chat_id is None or s.chat_id == chat_id) and (predicate is None or predicate(s))
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} message(s) to {chat_id}, got {len(found)}; all sent: "
                    f"{[(s.chat_id, s.text[:60]) for s in self.sent]}"
                )
            await asyncio.sleep(0.01)

    async def wait_consumed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed ``update_id`` (asked for a later offset)."""
        deadline = time.monotonic() + timeout
        while not any(int(f.get("offset", 0) or 0) > update_id for f in self.calls("getUpdates")):
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update_id} was never consumed")
            await asyncio.sleep(0.01)

    # HTTP -----------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        fields: dict[str, Any] = dict(await request.post()) if request.can_read_body else {}
        fields.update(request.query)
        self.requests.append((method, fields))
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        outage = self._method_failures.get(method.lower())
        if outage:
            self._method_failures[method.lower()] = outage - 1
            return _error(500, "Internal Server Error")
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return await handler(fields)

    async def _file(self, request: web.Request) -> web.Response:
        content = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if request.match_info["token"] != self.token or content is None:
            return web.Response(status=404)
        return web.Response(body=content)

    async def _m_getme(self, fields: dict[str, Any]) -> web.Response:
        return _ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Vestnik",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _m_getupdates(self, fields: dict[str, Any]) -> web.Response:
        offset = int(fields.get("offset") or 0)
        timeout = min(float(fields.get("timeout") or 0), self.hold_updates)
        async with self._new:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                try:
                    await asyncio.wait_for(self._new.wait(), timeout)
                except TimeoutError:
                    pass
            ready = [u for u in self._updates if u["update_id"] >= offset]
        return _ok(ready)

    async def _m_deletewebhook(self, fields: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _m_setwebhook(self, fields: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _m_setmycommands(self, fields: dict[str, Any]) -> web.Response:
        scope = json.loads(fields.get("scope") or "{}")
        if scope.get("type") == "chat" and int(scope["chat_id"]) in self._failures:
            return _error(400, "Bad Request: chat not found")
        return _ok(True)

    async def _m_getfile(self, fields: dict[str, Any]) -> web.Response:
        file_id = fields.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        )

    async def _m_sendmessage(self, fields: dict[str, Any]) -> web.Response:
        now = time.monotonic()
        chat_id = int(fields["chat_id"])
        text = fields.get("text", "")
        if self._floods:
            retry_after = self._floods.popleft()
            self._blocked_until = max(self._blocked_until, now + retry_after)
            return self._reject(chat_id, 429, now, retry_after)
        if now < self._blocked_until:
            self.early_retries += 1
            return self._reject(chat_id, 429, now, math.ceil(self._blocked_until - now))
        if self.rate_limit is not None:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                wait = max(1, math.ceil(self._window[0] + 1.0 - now))
                self._blocked_until = now + wait
                return self._reject(chat_id, 429, now, wait)
        failure = self._failures.get(chat_id)
        if failure is not None:
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[chat_id]
            self.rejected.append((chat_id, failure.code, now))
            return _error(failure.code, failure.description)
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        problem = self._thread_problem(chat_id, fields)
        if problem:
            return _error(400, problem)
        if fields.get("parse_mode") == "HTML":
            problem = html_problem(text)
            if problem:
                return _error(400, f"Bad Request: can't parse entities: {problem}")
            visible = html.unescape(re.sub(r"<[^>]*>", "", text))
        else:
            visible = text
        if len(visible.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        if self.rate_limit is not None:
            self._window.append(now)
        markup = fields.get("reply_markup")
        sent = Sent(
            chat_id=chat_id,
            text=text,
            parse_mode=fields.get("parse_mode"),
            reply_markup=json.loads(markup) if markup else None,
            message_id=next(self._message_ids),
            at=now,
            fields=dict(fields),
        )
        self.sent.append(sent)
        body = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Vestnik"},
            "text": text,
        }
        self.messages[(chat_id, sent.message_id)] = body
        return _ok(body)

    def _thread_problem(self, chat_id: int, fields: dict[str, Any]) -> str | None:
        thread = fields.get("message_thread_id")
        if thread and chat_id in self.forums and int(thread) not in self.forums[chat_id]:
            return "Bad Request: message thread not found"
        return None

    async def _m_copymessage(self, fields: dict[str, Any]) -> web.Response:
        chat_id = int(fields["chat_id"])
        source = self.messages.get((int(fields["from_chat_id"]), int(fields["message_id"])))
        if source is None:
            return _error(400, "Bad Request: message to copy not found")
        failure = self._failures.get(chat_id)
        if failure is not None:
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[chat_id]
            self.rejected.append((chat_id, failure.code, time.monotonic()))
            return _error(failure.code, failure.description)
        problem = self._thread_problem(chat_id, fields)
        if problem:
            return _error(400, problem)
        caption = fields["caption"] if "caption" in fields else source.get("caption")
        if caption and len(caption) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        copy = {
            key: value
            for key, value in source.items()
            if key not in ("message_id", "chat", "from", "reply_to_message", "caption")
        }
        if caption:
            copy["caption"] = caption
        sent = Sent(
            chat_id=chat_id,
            text=copy.get("text") or caption or "",
            parse_mode=None,
            reply_markup=None,
            message_id=next(self._message_ids),
            at=time.monotonic(),
            fields=dict(fields),
            method="copyMessage",
        )
        self.sent.append(sent)
        self.messages[(chat_id, sent.message_id)] = {
            **copy,
            "message_id": sent.message_id,
            "chat": {"id": chat_id, "type": "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Vestnik"},
        }
        return _ok({"message_id": sent.message_id})

    async def _m_createforumtopic(self, fields: dict[str, Any]) -> web.Response:
        chat_id = int(fields["chat_id"])
        if chat_id not in self.forums:
            return _error(400, "Bad Request: the chat is not a forum")
        thread = next(self._thread_ids)
        self.forums[chat_id].add(thread)
        return _ok(
            {"message_thread_id": thread, "name": fields.get("name", ""), "icon_color": 7322096}
        )

    async def _m_getchat(self, fields: dict[str, Any]) -> web.Response:
        chat_id = int(fields["chat_id"])
        kind = "private" if chat_id > 0 else "supergroup"
        return _ok(
            {
                "id": chat_id,
                "type": kind,
                "title": "Staff",
                "is_forum": chat_id in self.forums,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )

    async def _m_getchatmember(self, fields: dict[str, Any]) -> web.Response:
        chat_id, user_id = int(fields["chat_id"]), int(fields["user_id"])
        status = self.members.get((chat_id, user_id), "member")
        member: dict[str, Any] = {"status": status, "user": user(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        return _ok(member)

    def message(self, chat_id: int, message_id: int) -> Sent:
        return next(s for s in self.sent if s.chat_id == chat_id and s.message_id == message_id)

    async def _m_editmessagetext(self, fields: dict[str, Any]) -> web.Response:
        chat_id, message_id = int(fields["chat_id"]), int(fields["message_id"])
        found = [s for s in self.sent if s.chat_id == chat_id and s.message_id == message_id]
        if not found:
            return _error(400, "Bad Request: message to edit not found")
        text = fields.get("text", "")
        if fields.get("parse_mode") == "HTML" and html_problem(text):
            return _error(400, f"Bad Request: can't parse entities: {html_problem(text)}")
        markup = fields.get("reply_markup")
        decoded = json.loads(markup) if markup else None
        sent = found[0]
        if sent.text == text and sent.reply_markup == decoded:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same",
            )
        sent.text, sent.reply_markup, sent.parse_mode = text, decoded, fields.get("parse_mode")
        self.edits.append(
            Sent(
                chat_id, text, sent.parse_mode, decoded, message_id, time.monotonic(), dict(fields)
            )
        )
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": text,
            }
        )

    async def _m_answercallbackquery(self, fields: dict[str, Any]) -> web.Response:
        self.answered.append(dict(fields))
        return _ok(True)

    def _reject(self, chat_id: int, code: int, now: float, retry_after: int) -> web.Response:
        self.rejected.append((chat_id, code, now))
        return web.json_response(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
            status=429,
        )


ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_TAG = re.compile(r"<(/?)([a-z-]+)(\s[^<>]*)?>")


def html_problem(text: str) -> str | None:
    """What Telegram's HTML parser would reject: unknown or unbalanced tags, a bare ``<``,
    an unknown named entity (an independent check, not the sender's own code)."""
    stack: list[str] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        match = _TAG.match(text, lt)
        if match is None:
            return f"unsupported start tag at byte offset {lt}"
        closing, name = match.group(1), match.group(2)
        if name not in ALLOWED_TAGS:
            return f'unsupported start tag "{name}" at byte offset {lt}'
        if closing:
            if not stack or stack[-1] != name:
                expected = stack[-1] if stack else ""
                return f'unmatched end tag at byte offset {lt}, expected "</{expected}>"'
            stack.pop()
        else:
            stack.append(name)
        pos = match.end()
    if stack:
        return f'can\'t find end tag corresponding to start tag "{stack[-1]}"'
    for entity in re.findall(r"&([A-Za-z]+);", text):
        if entity not in ("lt", "gt", "amp", "quot"):
            return f'unsupported HTML entity "&{entity};"'
    return None


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )


# update builders ----------------------------------------------------------------------------------
_message_ids = itertools.count(1)


def user(
    user_id: int,
    *,
    first_name: str = "Иван",
    language: str | None = "ru",
    last_name: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        out["last_name"] = last_name
    if language:
        out["language_code"] = language
    return out


def message(
    chat_id: int,
    text: str | None = None,
    *,
    from_id: int | None = None,
    language: str | None = "ru",
    first_name: str = "Иван",
    chat_type: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` update; a ``/command`` text gets its bot_command entity."""
    sender = from_id if from_id is not None else chat_id
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type or ("private" if chat_id > 0 else "group")},
        "from": user(sender, first_name=first_name, language=language),
        **extra,
    }
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"message": body}


def contact(
    chat_id: int,
    phone: str,
    *,
    user_id: int | None,
    from_id: int | None = None,
    first_name: str = "Иван",
    language: str | None = "ru",
    chat_type: str | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
    if user_id is not None:
        card["user_id"] = user_id
    return message(
        chat_id,
        None,
        from_id=from_id,
        first_name=first_name,
        language=language,
        chat_type=chat_type,
        contact=card,
    )


def document(
    chat_id: int, file_id: str, file_name: str, size: int, *, language: str | None = "ru"
) -> dict[str, Any]:
    return message(
        chat_id,
        None,
        language=language,
        document={
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": file_name,
            "file_size": size,
        },
    )


def chat_member(chat_id: int, *, old: str, new: str) -> dict[str, Any]:
    """``my_chat_member``: the user changed the bot's status (``kicked`` = blocked)."""
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Vestnik", "username": BOT_USERNAME}
    return {
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private", "first_name": "Иван"},
            "from": user(chat_id),
            "date": int(time.time()),
            "old_chat_member": {
                "status": old,
                "user": bot_user,
                **({"until_date": 0} if old == "kicked" else {}),
            },
            "new_chat_member": {
                "status": new,
                "user": bot_user,
                **({"until_date": 0} if new == "kicked" else {}),
            },
        }
    }


def callback(
    chat_id: int,
    message_id: int,
    data: str,
    *,
    from_id: int | None = None,
    language: str | None = "ru",
    text: str = "",
) -> dict[str, Any]:
    """A ``callback_query`` update: ``from_id`` pressed a button carrying ``data`` under the
    bot's message ``message_id`` in ``chat_id``."""
    sender = from_id if from_id is not None else chat_id
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Vestnik", "username": BOT_USERNAME}
    return {
        "callback_query": {
            "id": f"cb-{next(_message_ids)}",
            "from": user(sender, language=language),
            "chat_instance": f"ci-{chat_id}",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "from": bot_user,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "text": text or "…",
            },
        }
    }


def buttons(sent: Sent) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button of a message, row by row."""
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
