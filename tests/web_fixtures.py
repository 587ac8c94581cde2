"""Fixtures for the web page tests: the app with the bot on the fake Telegram API, a real
headless Chromium (Debian's ``/usr/bin/chromium`` driven by playwright; nothing is
downloaded), and logging in with a one-time link. Import the fixtures you use
(``from tests.web_fixtures import browser, web, ...``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.timeutil import SystemClock
from bot.keys import CONFIG
from bot.services.web_login import WebIdentity, make_login_link
from tests.conftest import CUSTOMER_EMAIL_RULE, booked

CHROMIUM = os.environ.get("VESTNIK_TEST_CHROMIUM", "/usr/bin/chromium")
# set to a directory (docs/img) to keep the screenshots the tests take
SCREENSHOTS = os.environ.get("VESTNIK_WEB_SCREENSHOTS", "")

WEB_RULES = (
    CUSTOMER_EMAIL_RULE
    + """
[[rules]]
name = "parts arrived, sms"
event = "parts_arrived"
recipients = ["customer"]
channels = ["sms"]
body = "Запчасти для заказа {{ order.number }} поступили. Ждём вас!"
"""
)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (or set VESTNIK_TEST_CHROMIUM)"
        )
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        yield launched
        await launched.close()


class Web:
    """The running app (with the bot) and ways to open its pages in the browser."""

    def __init__(self, bot: Any, browser: Any) -> None:
        self.bot = bot
        self.browser = browser

    @property
    def running(self) -> Any:
        return self.bot.running

    @property
    def storage(self) -> Any:
        return self.bot.storage

    @property
    def url(self) -> str:
        return str(self.running.url)

    def local(self, link: str) -> str:
        """A login link as printed (on web.base_url) made to point at the test server."""
        token = parse_qs(urlsplit(link).query)["t"][0]
        return f"{self.url}/web/login?t={token}"

    async def operator_link(self) -> str:
        link = await make_login_link(
            self.storage, self.running.app[CONFIG], WebIdentity("operator"), SystemClock().now()
        )
        return self.local(link)

    async def page(self, *, locale: str = "ru-RU") -> Any:
        context = await self.browser.new_context(
            locale=locale, viewport={"width": 1280, "height": 800}
        )
        return await context.new_page()

    async def logged_in(self, *, locale: str = "ru-RU") -> Any:
        page = await self.page(locale=locale)
        await page.goto(await self.operator_link())
        assert urlsplit(page.url).path == "/web/journal", page.url
        return page


async def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real picture, not an empty page
    return path


@pytest.fixture
async def web(
    bot_app: Callable[..., Awaitable[Any]], browser: Any, smtp: Any
) -> Callable[..., Awaitable[Web]]:
    async def start(**sections: dict[str, Any]) -> Web:
        bot = await bot_app(**sections)
        await bot.running.rules(WEB_RULES)
        return Web(bot, browser)

    return start


# a journal to look at ---------------------------------------------------------------------------
OLGA = 3001  # staff S-7 "Ольга", phone +7 916 000-00-07 in the booked() event
REFUSED = "lost@example.ru"


def customer_event(
    n: int, *, phone: str, email: str, name: str, event_type: str = "order_booked"
) -> dict:
    event = booked(
        f"evt-{n}", customer={"id": f"C-{n:03}", "name": name, "phone": phone, "email": email}
    )
    event["type"] = event_type
    event["order"] = {"id": f"ORD-{n}", "number": f"ЗН-{n:06}"}
    return event


async def fill_journal(w) -> None:
    """Three customers' bookings (one e-mail refused: failed rows) and an SMS rule's
    parts_arrived (skipped: no SMS portal)."""
    await w.running.post(
        customer_event(1, phone="+7 916 123-45-67", email="ivan@example.ru", name="Иван Петров")
    )
    await w.running.post(
        customer_event(2, phone="+7 903 555-00-11", email=REFUSED, name="Мария Соколова")
    )
    await w.running.post(
        customer_event(3, phone="+7 926 777-88-99", email=REFUSED, name="Пётр Иванов")
    )
    await w.running.post(
        customer_event(
            4,
            phone="+7 916 123-45-67",
            email="ivan@example.ru",
            name="Иван Петров",
            event_type="parts_arrived",
        )
    )
    await w.running.wait_rows(
        lambda rows: len(rows) == 4 and all(r.status in ("sent", "failed", "skipped") for r in rows)
    )


@pytest.fixture
async def started(web: Callable[..., Awaitable[Web]], smtp: Any) -> Web:
    smtp.recorder.refused.add(REFUSED)
    w = await web()
    await fill_journal(w)
    return w


async def texts(page, selector: str) -> list[str]:
    return [text.strip() for text in await page.locator(selector).all_inner_texts()]
