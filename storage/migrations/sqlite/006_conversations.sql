-- Vestnik schema, version 6 (SQLite): conversations between customers and staff.
-- One row per message in either direction; the UNIQUE (source_chat_id, source_message) key
-- is the claim that makes every inbound message handled once, also with several processes.
CREATE TABLE conversation_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at          TEXT NOT NULL,
    direction           TEXT NOT NULL,            -- in (customer -> staff) | out (staff -> customer)
    channel             TEXT NOT NULL,            -- telegram | sms
    customer_key        TEXT NOT NULL,            -- customer id, or chat:<id> / phone:+7... when unknown
    customer_id         TEXT,
    customer_chat_id    INTEGER,                  -- the customer's Telegram chat
    phone               TEXT,                     -- SMS: the customer's number
    modem               TEXT,                     -- SMS: the modem it came in on / went out by
    source_chat_id      INTEGER NOT NULL,         -- where it was written (0 for an SMS)
    source_message      TEXT NOT NULL,            -- Telegram message id, or the SMS key
    staff_user_id       INTEGER,                  -- out: who answered
    staff_name          TEXT,
    kind                TEXT NOT NULL DEFAULT 'text',
    text                TEXT,                     -- the text or caption, as written
    reply_to_journal_id INTEGER,                  -- the notification the customer answered
    status              TEXT NOT NULL,            -- received | delivered | failed | throttled | stopped
    error               TEXT,
    delivered_message   INTEGER,                  -- out: the copy's id in the customer's chat
    UNIQUE (source_chat_id, source_message)
);
CREATE INDEX conversation_customer ON conversation_messages(customer_key, id);
CREATE INDEX conversation_recent ON conversation_messages(customer_key, direction, created_at);

-- where a message's copies went: a reply to any of them reaches the customer
CREATE TABLE conversation_copies (
    message_id       INTEGER NOT NULL,
    chat_id          INTEGER NOT NULL,
    copy_message_id  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, copy_message_id)
);
CREATE INDEX conversation_copies_message ON conversation_copies(message_id);

-- a forum topic per customer in the staff chat
CREATE TABLE conversation_topics (
    staff_chat_id  INTEGER NOT NULL,
    customer_key   TEXT NOT NULL,
    thread_id      INTEGER NOT NULL,
    name           TEXT NOT NULL,
    header         TEXT NOT NULL DEFAULT '',      -- the last context header posted there
    created_at     TEXT NOT NULL,
    PRIMARY KEY (staff_chat_id, customer_key)
);
CREATE UNIQUE INDEX conversation_topics_thread ON conversation_topics(staff_chat_id, thread_id);

-- /orders and the staff header look up a customer's orders in the stored events
CREATE INDEX events_customer ON events(json_extract(payload, '$.customer.id'));
