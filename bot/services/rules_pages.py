"""Rules as the web pages handle them: list, one rule, block/unblock, import a TOML file
(the same validation and messages as ``vestnik rules import``), export, and a preview of a
rule's messages on a sample event, per channel (SMS: segments and encoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.channels import SMS_CHANNELS
from bot.core.config import Config
from bot.core.sms_text import sms_info
from bot.core.sms_text import translit as sms_translit
from bot.pipeline.rule_file import RuleFileError, export_rules_toml, import_rules
from bot.pipeline.rules import from_stored
from bot.pipeline.template_context import template_context
from bot.pipeline.templates import TemplateFailure, Templates
from storage.base import Storage
from storage.models import StoredRule

MAX_RULES_FILE = 256 * 1024


@dataclass(slots=True)
class ChannelPreview:
    channel: str
    subject: str = ""
    text: str = ""
    html: str | None = None
    error: str | None = None
    encoding: str | None = None  # SMS and modem
    segments: int | None = None
    units: int | None = None


@dataclass(slots=True)
class ImportOutcome:
    created: int = 0
    updated: int = 0
    errors: list[str] | None = None


async def list_rules(storage: Storage) -> list[StoredRule]:
    async with storage.reader() as tx:
        return await tx.list_rules()


async def get_rule(storage: Storage, rule_id: int) -> StoredRule | None:
    async with storage.reader() as tx:
        return await tx.get_rule(rule_id)


async def set_blocked(storage: Storage, rule_id: int, blocked: bool) -> bool:
    return await storage.write(lambda tx: tx.set_rule_blocked(rule_id, blocked))


async def import_file(storage: Storage, data: bytes) -> ImportOutcome:
    """Import a whole file or nothing; the problems are the CLI's, one line each."""
    if len(data) > MAX_RULES_FILE:
        return ImportOutcome(errors=[f"the file is larger than {MAX_RULES_FILE // 1024} KB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportOutcome(errors=["the file is not UTF-8 text"])
    try:
        created, updated = await import_rules(storage, text)
    except RuleFileError as exc:
        return ImportOutcome(errors=list(exc.errors))
    return ImportOutcome(created, updated)


async def export_all(storage: Storage) -> str:
    return export_rules_toml(await list_rules(storage))


def show_toml(rule: StoredRule) -> str:
    return export_rules_toml([rule])


def sample_event(event_type: str, now: datetime) -> dict[str, Any]:
    """A believable event of any type: every part a default template may use is filled."""
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "id": f"sample-{event_type}",
        "type": event_type,
        "occurred_at": now,
        "customer": {
            "id": "C-001",
            "name": "Иван Петров",
            "phone": "+79161234567",
            "email": "ivan@example.ru",
        },
        "manager": {"id": "S-7", "name": "Ольга Смирнова", "phone": "+79160000007"},
        "master": {"id": "S-9", "name": "Пётр Кузнецов"},
        "order": {
            "id": "ORD-1",
            "number": "ЗН-000123",
            "status": "В работе",
            "planned_start": tomorrow,
            "planned_finish": tomorrow + timedelta(hours=8),
            "amount": 15000,
            "paid": 5000,
            "currency": "RUB",
        },
        "items": [{"sku": "OC-90", "name": "Фильтр масляный", "qty": 1, "price": 900}],
        "vehicle": {"make": "Lada", "model": "Vesta", "plate": "А123ВС777", "mileage": 42000},
        "data": {
            "expires_on": (now + timedelta(days=14)).date(),
            "due_on": tomorrow.date(),
            "starts_at": tomorrow,
            "task_id": "T-1",
            "title": "Звонок клиенту",
            "points": 500,
            "balance": 1200,
            "status": "Готов к выдаче",
        },
    }


def preview_rule(
    rule: StoredRule, templates: Templates, config: Config, language: str, now: datetime
) -> list[ChannelPreview]:
    """The rule's message in each of its channels, rendered on :func:`sample_event`."""
    parsed = from_stored(rule)
    event = sample_event(parsed.event, now)
    recipient = {"id": "C-001", "name": "Иван Петров", "role": parsed.recipients[0]}
    context = template_context(
        event, recipient, company=config.service.company_name, extra=templates.globals
    )
    out = []
    for channel in parsed.channels:
        shown = ChannelPreview(channel)
        try:
            rendered = templates.render(
                event_type=parsed.event,
                channel=channel,
                language=parsed.language or language,
                context=context,
                subject=parsed.subject,
                body=parsed.body,
                html_body=parsed.html,
            )
        except TemplateFailure as exc:
            shown.error = str(exc)
            out.append(shown)
            continue
        shown.subject, shown.text, shown.html = rendered.subject, rendered.text, rendered.html
        if channel in SMS_CHANNELS:
            if parsed.translit:
                shown.text = sms_translit(shown.text)
            info = sms_info(shown.text)
            shown.encoding, shown.segments, shown.units = info.encoding, info.segments, info.units
        out.append(shown)
    return out
