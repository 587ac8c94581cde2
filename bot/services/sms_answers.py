"""SMS that customers send to a modem: a stop word unsubscribes, anything else goes to staff.

- a text that is, as a whole and in any case, one of ``[conversations] stop_words`` adds stop
  entries for the phone (every type; channels ``sms`` and ``modem``; reason "SMS STOP") and a
  journal row (status ``stopped``) that says so;
- any other text goes to the staff like a Telegram message, under the header "SMS from
  +7…", with the customer found by phone and their latest order; a staff reply goes back by
  SMS through the same modem (:mod:`bot.services.staff_replies`).

The message is stored before anything else under its key (sender, time stamp, reference),
so an SMS offered again (not yet deleted from the SIM) is handled once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot

from bot.core.config import Config
from bot.core.inbound_sms import InboundSms
from bot.core.phones import format_phone, normalize_phone
from bot.core.texts import t
from bot.core.timeutil import Clock
from bot.services.conversations import Conversations, text_post
from storage.base import Storage, Tx
from storage.models import ConversationMessage, JournalRow, StopEntry

log = logging.getLogger("vestnik.conversations")

STOP_REASON = "SMS STOP"
STOP_CHANNELS = ("sms", "modem")
SMS_SOURCE_CHAT = 0  # inbound SMS have no chat: their key is unique on its own


def is_stop_word(text: str, stop_words: list[str]) -> bool:
    return text.strip().casefold() in {word.strip().casefold() for word in stop_words}


class SmsAnswers:
    """The :class:`~bot.core.inbound_sms.InboundSmsSink` the modem readers hand SMS to."""

    def __init__(
        self,
        storage: Storage,
        config: Config,
        clock: Clock,
        senders: dict,
        bot: Callable[[], Bot | None],
    ) -> None:
        self.storage = storage
        self.config = config
        self.clock = clock
        self.senders = senders
        self.bot = bot  # the bot may start after the modems

    async def __call__(self, sms: InboundSms) -> None:
        region = self.config.service.default_region
        phone = normalize_phone(sms.sender, region) or sms.sender
        conv = Conversations(self.storage, self.config, self.clock, self.senders, self.bot())
        stop = is_stop_word(sms.text, self.config.conversations.stop_words)

        async with self.storage.reader() as tx:
            customer = await tx.find_person_by_phone("customer", phone)
            key = customer.id if customer is not None else f"phone:{phone}"
            ctx = await conv.context(tx, customer=customer, key=key)
        record = ConversationMessage(
            direction="in",
            channel="sms",
            customer_key=key,
            source_chat_id=SMS_SOURCE_CHAT,
            source_message=sms.key,
            status="stopped" if stop else "received",
            created_at=self.clock.now(),
            customer_id=customer.id if customer else None,
            phone=phone,
            modem=sms.modem,
            text=sms.text,
        )
        if stop:
            await self._stop(record, phone)
            return
        record_id, recent = await conv.claim(record)
        if record_id is None:
            return
        if recent >= self.config.conversations.flood_per_minute:
            await self.storage.write(
                lambda tx: tx.update_conversation_message(record_id, status="throttled")
            )
            return
        shown = format_phone(phone, region)
        first = t("conv.sms_from", conv.lang, phone=shown)
        who = (
            t("conv.sms_customer", conv.lang, name=customer.name or customer.id, id=customer.id)
            if customer
            else t("conv.sms_unknown", conv.lang)
        )
        header = conv.header(ctx, f"{first}, {who}")
        name = conv.topic_name(ctx, shown, phone)
        await conv.deliver_to_staff(
            ctx, header, name, text_post(conv.bot, sms.text) if conv.bot else _nothing, record_id
        )

    async def _stop(self, record: ConversationMessage, phone: str) -> None:
        now = self.clock.now()

        async def job(tx: Tx) -> bool:
            if await tx.claim_conversation_message(record) is None:
                return False
            for channel in STOP_CHANNELS:
                await tx.add_stop(
                    StopEntry(
                        who=phone,
                        who_kind="phone",
                        event_type="*",
                        channel=channel,
                        reason=STOP_REASON,
                        author=f"sms:{record.modem}",
                        created_at=now,
                    )
                )
            await tx.insert_journal(
                [
                    JournalRow(
                        event_id=f"sms-stop:{record.source_message}",
                        event_type="sms_stop",
                        rule="sms stop",
                        recipient_role="customer",
                        recipient_id=record.customer_id,
                        channel="modem",
                        provider=record.modem,
                        status="stopped",
                        created_at=now,
                        due_at=None,
                        address=phone,
                        text=record.text,
                        reason=STOP_REASON,
                    )
                ]
            )
            return True

        if await self.storage.write(job):
            log.info("%s sent a stop word: stop list entries added", phone)


async def _nothing(chat_id: int, thread_id: int | None, reply_to: int | None) -> list[int]:
    return []
