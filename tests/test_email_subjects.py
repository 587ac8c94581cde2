"""What a standards-following mail client shows as the subject equals the journal's subject:
long Cyrillic, mixed and emoji subjects of 20-300 characters, parsed from the message the
SMTP server received with ``email.policy.default``."""

from __future__ import annotations

import random

from tests.conftest import booked

SUBJECT_RULE = """
[[rules]]
name = "subject as sent"
event = "order_booked"
recipients = ["customer"]
channels = ["email"]
subject = "{{ data.subject }}"
body = "Текст"
"""

WORDS = [
    "Счёт",
    "на",
    "5 000,00",
    "₽",
    "по",
    "заказу",
    "ЗН-000123",
    "Invoice",
    "for",
    "order",
    "😀",
    "Lada",
    "Vesta",
    "А123ВС777",
    "—",
    "оплатите",
    "пожалуйста",
    "🚗🔧",
    "Автосервис",
    "Север:",
    "(скидка)",
    '"кавычки"',
    "x" * 30,
    "ВЕСНА-2026",
    "№5",
]


def subjects() -> list[str]:
    """The reported one, then a fixed sample over 20-300 characters."""
    out = [
        "Счёт на 5 000,00 ₽ по заказу ЗН-000123 от 27.11.2026: оплатите, пожалуйста, до "
        "пятницы — Автосервис Север"
    ]
    chooser = random.Random(11)
    for length in range(20, 301, 7):
        text = ""
        while len(text) < length:
            text += chooser.choice(WORDS) + chooser.choice([" ", " ", ", "])
        out.append(text[:length].strip())
    return out


async def test_the_subject_a_client_shows_is_the_journals(make_config, start_app, smtp):
    app = await start_app(make_config())
    await app.rules(SUBJECT_RULE)
    sample = subjects()
    events = [
        booked(
            f"subj-{i}",
            customer={"id": f"C-{i}", "email": f"c{i}@example.ru"},
            data={"subject": subject},
        )
        for i, subject in enumerate(sample)
    ]
    status, answer = await app.post({"events": events})
    assert status == 202 and answer["planned"] == len(sample)
    rows = await app.wait_rows(
        lambda rows: len(rows) == len(sample) and all(r.status == "sent" for r in rows), timeout=60
    )
    for row in rows:
        [mail] = smtp.recorder.by_recipient(row.address)
        assert row.subject == sample[int(row.event_id.split("-")[1])]
        assert str(mail["Subject"]) == row.subject, row.event_id
        raw_lines = mail.as_bytes().split(b"\n")
        assert max(len(line.rstrip(b"\r")) for line in raw_lines) <= 998
