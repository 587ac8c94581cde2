-- Vestnik schema, version 3 (SQLite): one person, one identity. A customer first met in
-- Telegram (id "phone:+7...") who turns out to be an ERP customer is merged into it; the old
-- id stays as an alias, so rows planned under it (and stop-list checks by their keys) still
-- reach the person.
CREATE TABLE person_aliases (
    kind       TEXT NOT NULL,
    alias      TEXT NOT NULL,
    id         TEXT NOT NULL,
    merged_at  TEXT NOT NULL,
    PRIMARY KEY (kind, alias)
);
CREATE INDEX person_aliases_id ON person_aliases(kind, id);
