-- Vestnik schema, version 1 (SQLite). Times are RFC 3339 UTC text with milliseconds,
-- so text order is time order.

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    order_id     TEXT,
    order_number TEXT,
    payload      TEXT NOT NULL
);
CREATE INDEX events_order ON events(order_id, type);
CREATE INDEX events_order_number ON events(order_number);

CREATE TABLE persons (
    kind         TEXT NOT NULL,            -- customer | staff
    id           TEXT NOT NULL,
    name         TEXT,
    phone        TEXT,
    email        TEXT,
    telegram_id  INTEGER,
    grp          TEXT,
    birthday     TEXT,
    language     TEXT,
    timezone     TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX persons_phone ON persons(kind, phone);
CREATE INDEX persons_birthday ON persons(kind, birthday) WHERE birthday IS NOT NULL;

CREATE TABLE telegram_links (
    chat_id      INTEGER PRIMARY KEY,
    user_id      INTEGER,
    phone        TEXT,
    customer_id  TEXT,
    staff_id     TEXT,
    language     TEXT,
    active       INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT NOT NULL
);
CREATE INDEX links_customer ON telegram_links(customer_id);
CREATE INDEX links_staff ON telegram_links(staff_id);
CREATE INDEX links_phone ON telegram_links(phone);

CREATE TABLE stoplist (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    who_kind     TEXT NOT NULL,            -- customer | phone | email | chat
    who          TEXT NOT NULL,
    who_key      TEXT NOT NULL,            -- who_kind || ':' || who
    event_type   TEXT NOT NULL DEFAULT '*',
    channel      TEXT NOT NULL DEFAULT '*',
    reason       TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX stoplist_key ON stoplist(who_key);

CREATE TABLE rules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    event        TEXT NOT NULL,
    blocked      INTEGER NOT NULL DEFAULT 0,
    definition   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE journal (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id             TEXT NOT NULL,
    event_type           TEXT NOT NULL,
    rule                 TEXT NOT NULL,
    recipient_role       TEXT NOT NULL,
    recipient_id         TEXT,
    recipient_name       TEXT,
    channel              TEXT NOT NULL,
    provider             TEXT,
    address              TEXT,
    subject              TEXT,
    text                 TEXT,
    segments             INTEGER,
    created_at           TEXT NOT NULL,
    due_at               TEXT,
    sent_at              TEXT,
    failed_at            TEXT,
    error                TEXT,
    attempts             INTEGER NOT NULL DEFAULT 0,
    provider_message_id  TEXT,
    status               TEXT NOT NULL,
    reason               TEXT,
    order_id             TEXT,
    html                 TEXT,
    options              TEXT NOT NULL DEFAULT '{}',
    lease_owner          TEXT,
    lease_until          TEXT
);
-- the dispatcher's queue: only rows that may still be sent are indexed
CREATE INDEX journal_queue ON journal(channel, due_at)
    WHERE status IN ('pending', 'scheduled') AND sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX journal_leases ON journal(lease_until) WHERE status = 'sending';
CREATE INDEX journal_event ON journal(event_id);
CREATE INDEX journal_order ON journal(order_id, status);
CREATE INDEX journal_status ON journal(status, id);
CREATE INDEX journal_address ON journal(address);
CREATE INDEX journal_created ON journal(created_at);

CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id     TEXT NOT NULL,
    journal_id   INTEGER,
    subject      TEXT,
    text         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    read_at      TEXT
);
CREATE INDEX inbox_staff ON inbox(staff_id, id);

CREATE TABLE meta (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL
);
INSERT INTO meta(key, value) VALUES ('rules_revision', '0');
