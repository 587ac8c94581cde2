-- Vestnik schema, version 7 (SQLite): the bot's dialogue state (an aiogram FSM store that
-- survives a restart and is shared by every process), and who changed which rule when.
CREATE TABLE fsm_state (
    key          TEXT PRIMARY KEY,         -- bot:chat:user[:thread]
    state        TEXT,
    data         TEXT NOT NULL DEFAULT '{}',
    updated_at   TEXT NOT NULL
);
CREATE INDEX fsm_state_updated ON fsm_state(updated_at);

CREATE TABLE rule_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id      INTEGER,
    rule_name    TEXT NOT NULL,
    action       TEXT NOT NULL,            -- created | updated | blocked | unblocked | deleted | imported
    author       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX rule_changes_rule ON rule_changes(rule_id, id);
