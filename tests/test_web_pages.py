"""The web pages at work in a real headless browser: the journal's filters, search, paging,
row view and resend, the stop list, rules import and preview, the status page, the
language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.pipeline.rule_file import RuleFileError, parse_rules_toml
from tests.telegram_fixtures import (  # noqa: F401
    bot_app,
    fake_telegram,
    telegram_config,
)
from tests.web_fixtures import (  # noqa: F401
    REFUSED,
    browser,
    customer_event,
    screenshot,
    started,
    texts,
    web,
)


# the journal ------------------------------------------------------------------------------------------
async def test_journal_filters_and_search(started, tmp_path):
    page = await started.logged_in()
    assert await page.locator("#total").inner_text() == "Всего: 4"
    await screenshot(page, "web-journal.png", tmp_path)
    await page.select_option("select[name=status]", "failed")  # applies at once (app.js)
    await page.wait_for_url(re.compile(r"status=failed"))
    assert set(await texts(page, "#journal tbody .badge")) == {"failed"}
    assert await page.locator("#total").inner_text() == "Всего: 2"
    await page.goto(f"{started.url}/web/journal")
    await page.select_option("select[name=rule]", "parts arrived, sms")
    await page.wait_for_url(re.compile(r"rule="))
    assert await page.locator("#total").inner_text() == "Всего: 1"
    await page.select_option("select[name=channel]", "email")
    await page.wait_for_url(re.compile(r"channel=email"))
    assert await page.locator("#empty").count() == 1
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    await page.goto(f"{started.url}/web/journal?from={today}&to={today}&type=order_booked")
    assert await page.locator("#total").inner_text() == "Всего: 3"
    await page.goto(f"{started.url}/web/journal?to={today - timedelta(days=1)}")
    assert await page.locator("#empty").count() == 1
    await page.goto(f"{started.url}/web/journal")
    for query, expected in (
        ("8 (916) 123-45-67", {"ivan@example.ru", "—"}),
        ("89035550011", {REFUSED}),
        ("ЗН-000003", {REFUSED}),
        ("соколова", {REFUSED}),
        ("ivan@example.ru", {"ivan@example.ru"}),
        ("evt-4", {"—"}),
    ):
        await page.fill("input[name=q]", query)
        await page.click("#search")
        await page.wait_for_load_state()
        assert set(await texts(page, "#journal td.address")) == expected, query
    await page.fill("input[name=q]", "ЗН-000003")
    await page.click("#search")
    assert await page.locator("#total").inner_text() == "Всего: 1"
    await page.fill("input[name=q]", "nobody-here")
    await page.click("#search")
    assert await page.locator("#empty").inner_text() == "Ничего не найдено."
    await page.goto(f"{started.url}/web/journal?from=2026-13-40&status=bogus&page=x")
    assert "Не удалось прочитать фильтр: status, from" in await page.content()
    response = await page.goto(
        f"{started.url}/web/journal?from=0001-01-01&to=9999-12-31&page=999999999999&q={'9' * 300}"
    )
    assert response.status == 200 and "from, to" in await page.content()


async def test_journal_sorts_by_time_and_pages_by_fifty(started):
    events = [
        customer_event(
            100 + n, phone=f"+7 916 200-{n:02}-00", email=f"c{n}@example.ru", name=f"Клиент {n}"
        )
        for n in range(60)
    ]
    await started.running.post({"events": events})
    await started.running.wait_rows(
        lambda rows: (
            len(rows) == 64 and all(r.status in ("sent", "failed", "skipped") for r in rows)
        )
    )
    page = await started.logged_in()
    ids = [int(x) for x in await texts(page, "#journal tbody a.row-link")]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and ids[0] == 64
    assert "страница 1 из 2" in await page.locator(".summary").inner_text()
    await page.click("#next")
    assert len(await texts(page, "#journal tbody a.row-link")) == 14
    await page.click("#sort")
    ids = [int(x) for x in await texts(page, "#journal tbody a.row-link")]
    assert ids[:3] == [1, 2, 3]


async def test_a_row_opens_in_full_and_resends(started, smtp, tmp_path):
    page = await started.logged_in()
    async with started.storage.reader() as tx:
        failed = [r for r in await tx.list_journal({"limit": 10}) if r.status == "failed"][0]
    await page.click(f"#journal tr[data-id='{failed.id}'] a.row-link")
    assert await page.locator("#row-status").inner_text() == "failed"
    assert await page.locator("#row-address").inner_text() == REFUSED
    assert "550" in await page.locator("#row-error").inner_text()
    assert "ЗН-" in await page.locator("#row-text").inner_text()
    assert await page.locator("#row-subject").count() == 1
    sent = [r for r in await started.running.journal() if r.status == "sent"][0]
    await page.goto(f"{started.url}/web/journal/{sent.id}")
    await screenshot(page, "web-row.png", tmp_path)
    assert await page.locator("#row-message-id").inner_text() == sent.provider_message_id
    assert await page.locator("#row-text").inner_text() == sent.text

    smtp.recorder.refused.clear()  # the mailbox exists again
    await page.goto(f"{started.url}/web/journal/{failed.id}")
    await page.click("#resend")
    assert "поставлено в очередь заново" in await page.locator(".notice").inner_text()
    await started.running.wait_rows(
        lambda rows: any(r.id == failed.id and r.status == "sent" for r in rows)
    )
    assert smtp.recorder.by_recipient(REFUSED)


async def test_resend_every_failed_row_of_the_filter_after_a_confirmation(started, smtp):
    page = await started.logged_in()
    await page.fill("input[name=q]", "соколова")
    await page.click("#search")
    assert "(1)" in await page.locator("#resend-failed").inner_text()
    await page.goto(f"{started.url}/web/journal")
    assert "(2)" in await page.locator("#resend-failed").inner_text()
    await page.click("#resend-failed")
    assert "Отправить заново 2 уведомлений" in await page.locator("#question").inner_text()
    await page.click("a.button.secondary")  # cancel: nothing happens
    assert urlsplit(page.url).path == "/web/journal"
    smtp.recorder.refused.clear()
    await page.click("#resend-failed")
    await page.click("#confirm")
    assert "Поставлено в очередь заново: 2." in await page.locator(".notice").inner_text()
    await started.running.wait_rows(lambda rows: [r.status for r in rows].count("sent") == 3)


# the stop list --------------------------------------------------------------------------------------
async def test_add_and_remove_a_stop_entry(started):
    page = await started.logged_in()
    await page.click("text=Стоп-лист")
    assert await page.locator("#empty").count() == 1
    await page.fill("input[name=who]", "8 (916) 123-45-67")
    await page.fill("input[name=event_type]", "Bad Type")
    await page.click("#add")
    assert "латиница" in await page.locator(".field-error").inner_text()
    await page.fill("input[name=event_type]", "order_booked")
    await page.select_option("select[name=channel]", "sms")
    await page.fill("input[name=reason]", "просил не писать")
    await page.click("#add")
    assert "Добавлено в стоп-лист" in await page.locator(".notice").inner_text()
    assert await texts(page, "#stoplist td.who") == ["phone:+79161234567"]
    async with started.storage.reader() as tx:
        [entry] = await tx.list_stops()
    assert (entry.event_type, entry.channel, entry.author) == ("order_booked", "sms", "operator")
    await page.fill("input[name=q]", "просил")
    await page.press("input[name=q]", "Enter")
    await page.wait_for_url(re.compile(r"q="))
    assert len(await texts(page, "#stoplist td.who")) == 1
    await page.click("#stoplist a.remove")
    assert f"#{entry.id}" in await page.locator("#question").inner_text()
    await page.click("#confirm")
    assert f"Запись #{entry.id} удалена." in await page.locator(".notice").inner_text()
    async with started.storage.reader() as tx:
        assert await tx.list_stops() == []


# rules ----------------------------------------------------------------------------------------------------
BAD_RULES = """
[[rules]]
name = "broken"
event = "order_booked"
recipients = ["customer"]
channels = ["pigeon"]
colour = "red"
"""


async def test_importing_a_bad_rules_file_shows_every_problem_and_imports_nothing(
    started, tmp_path
):
    with pytest.raises(RuleFileError) as cli_errors:  # what `vestnik rules import` says
        parse_rules_toml(BAD_RULES)
    path = tmp_path / "bad.toml"
    path.write_text(BAD_RULES, encoding="utf-8")
    page = await started.logged_in()
    await page.goto(f"{started.url}/web/rules")
    await page.set_input_files("input[name=file]", str(path))
    await page.click("#import-button")
    shown = await texts(page, "#import-errors li")
    assert shown == cli_errors.value.errors and len(shown) >= 2
    assert "ошибок: " in await page.locator("#import-errors").inner_text()
    async with started.storage.reader() as tx:
        assert [r.name for r in await tx.list_rules()] == ["booked, customer", "parts arrived, sms"]
    await page.fill(
        "textarea[name=text]",
        BAD_RULES.replace('["pigeon"]', '["email"]').replace('colour = "red"\n', ""),
    )
    await page.click("#import-button")
    assert "создано 1, обновлено 0" in await page.locator(".notice").inner_text()


async def test_a_rule_shows_its_preview_per_channel_and_blocks(started):
    page = await started.logged_in()
    await page.goto(f"{started.url}/web/rules")
    await page.click("text=parts arrived, sms")
    sms = page.locator("section.preview[data-channel=sms]")
    assert "Запчасти для заказа ЗН-000123 поступили" in await sms.locator("pre").inner_text()
    assert "кодировка ucs2" in await sms.locator(".sms-info").inner_text()
    assert 'channels = ["sms"]' in await page.locator("#toml").inner_text()
    await page.click("#toggle")
    assert await page.locator("#rule-state").inner_text() == "выключено"
    async with started.storage.reader() as tx:
        assert (await tx.get_rule("parts arrived, sms")).blocked
    async with aiohttp.ClientSession() as session:
        cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
        async with session.get(f"{started.url}/web/rules/export", cookies=cookies) as response:
            exported = await response.text()
    assert "parts arrived, sms" in exported and "blocked = true" in exported


# status, language, headers ---------------------------------------------------------------------------------
async def test_status_page_shows_queue_channels_and_refreshes(started, tmp_path):
    page = await started.logged_in()
    await page.click("text=Состояние")
    assert await page.locator("body").get_attribute("data-refresh") == "15"
    email = page.locator("#queue tr[data-channel=email]")
    assert "failed 2" in await email.inner_text()
    assert "550" in await email.locator("td.error").inner_text()
    assert await page.locator("#database").inner_text() == "ok"
    assert "этот процесс" in await page.locator("#leader").inner_text()
    await screenshot(page, "web-status.png", tmp_path)


async def test_english_by_the_browser_language_and_by_the_switch(started):
    page = await started.logged_in(locale="en-US")
    assert await page.locator("h1").inner_text() == "Notification journal"
    await page.click("a.lang")
    assert await page.locator("h1").inner_text() == "Журнал уведомлений"
    await page.goto(f"{started.url}/web/status")
    assert await page.locator("h1").inner_text() == "Состояние"  # the switch is remembered
