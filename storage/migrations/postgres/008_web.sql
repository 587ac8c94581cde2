-- Vestnik schema, version 8 (PostgreSQL): the managers' web pages.
-- One-time login links: a link's id is stored when it is used, so it opens one session only.
CREATE TABLE web_login_used (
    token_id     TEXT PRIMARY KEY,
    used_at      TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_login_used_expiry ON web_login_used(expires_at);
-- the journal page: filters by type, rule and channel page by id; a name search finds
-- the customer's rows by recipient_id
CREATE INDEX journal_type_id ON journal(event_type, id);
CREATE INDEX journal_rule_id ON journal(rule, id);
CREATE INDEX journal_channel_id ON journal(channel, id);
CREATE INDEX journal_recipient ON journal(recipient_id);
