"""Rendering one planned row: its address and status from the route, its text from the
rule's templates (or the type's defaults), SMS segments and limits, and the due time after
quiet hours in the recipient's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.channels import SMS_CHANNELS
from bot.core.config import Config
from bot.core.quiet_hours import QuietHours
from bot.core.sms_text import segments as sms_segments
from bot.core.sms_text import translit as sms_translit
from bot.core.timeutil import rfc3339
from bot.pipeline.directory import person_dict
from bot.pipeline.routing import Recipient, Route
from bot.pipeline.rules import Rule
from bot.pipeline.schedule import local_zone
from bot.pipeline.template_context import template_context
from bot.pipeline.templates import TemplateFailure, Templates
from storage.models import JournalRow


class Renderer:
    def __init__(self, config: Config, templates: Templates) -> None:
        self.config = config
        self.templates = templates
        self.quiet_hours = QuietHours.parse(config.service.quiet_hours)

    def local_time(
        self, rule: Rule, recipient: Recipient, due_at: datetime, now: datetime
    ) -> tuple[datetime, dict[str, Any]]:
        """The due time after quiet hours, in the recipient's time zone (person's, else the
        service's). Customers are deferred unless the rule says ``quiet_hours = false``;
        staff only with ``service.quiet_hours_staff``."""
        person = recipient.person
        tz = local_zone(person.timezone if person else None, self.config.service.tz)
        local: dict[str, Any] = {"timezone": tz.key}
        window = self.quiet_hours
        applies = recipient.is_customer or self.config.service.quiet_hours_staff
        if window is None or not rule.quiet_hours or not applies:
            return due_at, local
        deferred = window.defer(max(due_at, now), tz)
        if deferred > max(due_at, now):
            local["quiet_hours"] = f"deferred from {rfc3339(due_at)}"
            return deferred, local
        return due_at, local

    async def fill(
        self,
        row: JournalRow,
        rule: Rule,
        recipient: Recipient,
        route: Route,
        document: dict[str, Any],
        *,
        now: datetime,
    ) -> None:
        """Address, text and status of one row from its route."""
        row.status, row.reason, row.address = route.status, route.reason, route.address
        row.plan.stop_keys = route.stop_keys
        providers = rule.providers_for(route.channel)
        if providers:
            row.plan.providers = providers
        if rule.sender_name:
            row.plan.sender_name = rule.sender_name
        if route.status != "pending":
            return
        language = rule.language or route.language or self.config.service.language
        row.plan.language = language
        if row.due_at and row.due_at > now:
            row.status = "scheduled"
            if recipient.person is not None:
                row.plan.resolve_when_due = True
        if await self._render(row, rule, recipient, route, document, language, now):
            self._check_text(row, rule, route, now)

    async def _render(
        self,
        row: JournalRow,
        rule: Rule,
        recipient: Recipient,
        route: Route,
        document: dict[str, Any],
        language: str,
        now: datetime,
    ) -> bool:
        context = template_context(
            document,
            person_dict(recipient.person, recipient.role),
            company=self.config.service.company_name,
            extra=self.templates.globals,
        )
        try:
            rendered = await self.templates.render_async(
                event_type=row.event_type,
                channel=route.channel,
                language=language,
                context=context,
                subject=rule.subject,
                body=rule.body,
                html_body=rule.html,
            )
        except TemplateFailure as exc:
            row.status, row.error, row.failed_at = "failed", str(exc), now
            return False
        row.subject, row.text, row.html = rendered.subject or None, rendered.text, rendered.html
        return True

    def _check_text(self, row: JournalRow, rule: Rule, route: Route, now: datetime) -> None:
        if route.channel in SMS_CHANNELS:
            if rule.translit:
                row.text = sms_translit(row.text or "")
            row.segments = sms_segments(row.text or "")
            limit = rule.max_segments or self.config.sms.max_segments
            if row.segments > limit:
                row.status, row.failed_at = "failed", now
                row.error = (
                    f"the text needs {row.segments} SMS segments, the limit is {limit}"
                    " (shorten the template, set translit = true or raise max_segments)"
                )
        if not row.text:
            row.status, row.failed_at = "failed", now
            row.error = "the template rendered an empty text"
