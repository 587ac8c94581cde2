"""``/web``: a staff member asks the bot for a one-time link to the web pages (valid ten
minutes, opens one session). Behind :class:`~handlers.filters.IsStaff` like every staff
command; the link is sent without a preview, so no link previewer spends it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import LinkPreviewOptions, Message

from bot.core.config import Config
from bot.core.texts import language_of, t
from bot.core.timeutil import Clock
from bot.services.web_login import LINK_MINUTES, WebIdentity, make_login_link
from handlers.filters import IsStaff, StaffMember
from storage.base import Storage


def build_web_login_router() -> Router:
    router = Router(name="web-login")
    router.message.filter(IsStaff())

    @router.message(Command("web"))
    async def web_link(
        message: Message, storage: Storage, config: Config, clock: Clock, staff: StaffMember
    ) -> None:
        lang = language_of(message.from_user.language_code if message.from_user else None)
        if not config.web.enabled:
            await message.answer(t("web.disabled", lang))
            return
        identity = WebIdentity("telegram", staff_id=staff.staff_id, user_id=staff.user_id)
        url = await make_login_link(storage, config, identity, clock.now())
        await message.answer(
            t("web.link", lang, url=url, minutes=LINK_MINUTES),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    return router
