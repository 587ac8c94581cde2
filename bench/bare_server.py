"""The yardstick: an aiohttp handler that reads the body and only answers 202."""

import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"accepted": [], "duplicates": [], "planned": 0}, status=202)


app = web.Application()
app.router.add_post("/events", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
