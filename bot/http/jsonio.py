"""JSON answers as people read them: UTF-8, not ``\\u`` escapes."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def json_response(value: Any, *, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(value, status=status, dumps=dumps, **kwargs)
