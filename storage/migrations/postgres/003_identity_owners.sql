-- Vestnik schema, version 3 (PostgreSQL).
-- One person, one identity: a customer first met in Telegram (id "phone:+7...") who turns
-- out to be an ERP customer is merged into it; the old id stays as an alias, so rows planned
-- under it (and stop-list checks by their keys) still reach the person.
CREATE TABLE person_aliases (
    kind       TEXT NOT NULL,
    alias      TEXT NOT NULL,
    id         TEXT NOT NULL,
    merged_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, alias)
);
CREATE INDEX person_aliases_id ON person_aliases(kind, id);

-- Live senders: every process that claims rows registers its lease owner id here with a key
-- and holds the session advisory lock (OWNER_LOCK_SPACE, lock_key) while it lives. A row
-- whose owner's lock is gone belongs to a dead process and is recovered at once.
CREATE SEQUENCE dispatch_owner_keys AS INTEGER CYCLE;
CREATE TABLE dispatch_owners (
    owner       TEXT PRIMARY KEY,
    lock_key    INTEGER NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
