"""The web pages' doors in a real headless browser: logging in by a one-time link (and the
link refused the second time), sessions that end when a staff member is no longer staff,
the CLI's links, CSRF, security headers, ``web.enabled``."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from bot.cli import main as cli_main
from bot.core.timeutil import SystemClock
from bot.keys import CONFIG
from bot.services.web_login import WebIdentity, make_login_link
from storage.models import Person
from tests.fakes.telegram_api import contact
from tests.telegram_fixtures import (  # noqa: F401
    ADMIN_ID,
    bot_app,
    fake_telegram,
    telegram_config,
)
from tests.web_fixtures import (  # noqa: F401
    OLGA,
    browser,
    started,
    web,
)


# logging in --------------------------------------------------------------------------------------
async def test_login_by_the_bots_link_opens_a_session_and_the_link_works_once(started):
    answer = await started.bot.reply(ADMIN_ID, "/web")
    assert "одноразовая" in answer
    link = re.search(r"https?://\S+/web/login\?t=\S+", answer).group(0)
    page = await started.page()
    await page.goto(started.local(link))
    assert urlsplit(page.url).path == "/web/journal"
    assert await page.locator("h1").inner_text() == "Журнал уведомлений"
    assert await page.locator(".who").inner_text() == "admin"
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "vestnik_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert cookie["path"] == "/web"

    second = await started.page()
    response = await second.goto(started.local(link))
    assert response.status == 403
    assert "уже использована" in await second.locator("#problem").inner_text()
    await second.goto(f"{started.url}/web/journal")
    assert urlsplit(second.url).path == "/web/login"  # no session came of it


async def test_a_tampered_or_expired_link_is_refused(started):
    link = await started.operator_link()
    page = await started.page()
    response = await page.goto(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert response.status == 403
    assert "недействительна" in await page.locator("#problem").inner_text()
    eleven_minutes_ago = SystemClock().now() - timedelta(minutes=11)
    old = await make_login_link(
        started.storage, started.running.app[CONFIG], WebIdentity("operator"), eleven_minutes_ago
    )
    response = await page.goto(started.local(old))
    assert response.status == 403
    assert "Срок действия ссылки истёк" in await page.locator("#problem").inner_text()
    await page.goto(f"{started.url}/web/journal")
    assert urlsplit(page.url).path == "/web/login"


async def test_no_page_is_readable_without_a_session(started):
    paths = [
        "/web/",
        "/web/journal",
        "/web/journal/1",
        "/web/journal/resend-failed",
        "/web/stoplist",
        "/web/stoplist/1/remove",
        "/web/rules",
        "/web/rules/1",
        "/web/rules/export",
        "/web/status",
    ]
    page = await started.page()
    for path in paths:
        await page.goto(started.url + path)
        assert urlsplit(page.url).path == "/web/login", path
        assert await page.locator("h1").inner_text() == "Вход через бота"
        assert "ЗН-" not in await page.content() and "ivan@" not in await page.content()
    async with aiohttp.ClientSession() as session:
        for path in paths:
            async with session.get(started.url + path, allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/web/login"
        forged = {"vestnik_session": "eyJrIjoib3BlcmF0b3IifQ.AAAA"}
        async with session.get(
            started.url + "/web/journal", cookies=forged, allow_redirects=False
        ) as response:
            assert response.status == 302
        async with session.post(
            started.url + "/web/stoplist", data={"who": "+79161234567"}, allow_redirects=False
        ) as response:
            assert response.status == 302
    async with started.storage.reader() as tx:
        assert await tx.list_stops() == []


async def test_a_staff_member_removed_from_staff_loses_the_session(started):
    await started.bot.send(contact(OLGA, "+79160000007", user_id=OLGA), OLGA)
    answer = await started.bot.reply(OLGA, "/web")
    page = await started.page()
    await page.goto(started.local(re.search(r"https?://\S+", answer).group(0)))
    assert await page.locator(".who").inner_text() == "Ольга"
    # the ERP gives the phone to someone else: the next page is the login page
    await started.storage.write(
        lambda tx: tx.upsert_person(Person(kind="staff", id="S-7", phone="+79169999999"))
    )
    await page.goto(f"{started.url}/web/journal")
    assert urlsplit(page.url).path == "/web/login"
    assert "только сотрудникам" in await started.bot.reply(OLGA, "/web")


async def test_cli_prints_a_login_link_for_the_operator_or_a_staff_member(
    started, tmp_path, capsys
):
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[service]\ndatabase = "{started.running.app[CONFIG].service.database}"'
        f'\n\n[web]\nbase_url = "https://vestnik.example.ru/"\n',
        encoding="utf-8",
    )
    assert await asyncio.to_thread(cli_main, ["web-login", "--config", str(config)]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://vestnik.example.ru/web/login?t=")
    assert (
        await asyncio.to_thread(
            cli_main, ["web-login", "--config", str(config), "--staff", "S-404"]
        )
        == 1
    )
    assert "no staff member with id 'S-404'" in capsys.readouterr().err
    assert (
        await asyncio.to_thread(
            cli_main, ["web-login", "--config", str(config), "--staff", "S-7", "--minutes", "5"]
        )
        == 0
    )
    staff_link = capsys.readouterr().out.strip()
    page = await started.page()
    await page.goto(started.local(staff_link))
    assert await page.locator(".who").inner_text() == "Ольга"
    await page.goto(started.local(link))
    assert await page.locator(".who").inner_text() == "operator"


async def test_a_post_without_the_csrf_token_is_refused(started):
    page = await started.logged_in()
    status = await page.evaluate("""async () => {
        const body = new URLSearchParams({who: "+79161234567"});
        const r = await fetch("/web/stoplist", {method: "POST", body});
        return r.status; }""")
    assert status == 403
    wrong = await page.evaluate("""async () => {
        const body = new URLSearchParams({who: "+79161234567", _csrf: "0".repeat(64)});
        const r = await fetch("/web/journal/1/resend", {method: "POST", body});
        return [r.status, await r.text()]; }""")
    assert wrong[0] == 403 and "Форма устарела" in wrong[1]
    async with started.storage.reader() as tx:
        assert await tx.list_stops() == []
        assert (await tx.get_journal(1)).status != "pending"


async def test_security_headers(started):
    page = await started.logged_in()
    response = await page.goto(f"{started.url}/web/journal")
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert "<script>" not in await page.content()  # no inline script anywhere
    static = await page.goto(f"{started.url}/web/static/app.css")
    assert static.status == 200 and "no-store" not in static.headers.get("cache-control", "")
    missing = await page.goto(f"{started.url}/web/journal/999999")
    assert missing.status == 404


async def test_web_enabled_false_leaves_the_pages_out(bot_app, smtp):  # noqa: F811
    bot = await bot_app(web={"enabled": False})
    async with aiohttp.ClientSession() as session:
        async with session.get(bot.running.url + "/web/journal", allow_redirects=False) as response:
            assert response.status == 404
    assert "выключен" in await bot.reply(ADMIN_ID, "/web")


async def test_session_cookie_is_secure_behind_https(web, smtp):  # noqa: F811
    w = await web(web={"base_url": "https://vestnik.example.ru", "session_hours": 2})
    link = await w.operator_link()
    async with aiohttp.ClientSession() as session:
        async with session.get(link, allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == "/web/journal"
            cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=7200" in cookie
