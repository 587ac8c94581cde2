-- Vestnik schema, version 2 (SQLite): a journal row's message lands in a staff inbox once,
-- also when a crash between storing it and recording the send makes the dispatcher retry.
DELETE FROM inbox WHERE journal_id IS NOT NULL AND id NOT IN
    (SELECT MIN(id) FROM inbox WHERE journal_id IS NOT NULL GROUP BY journal_id);
CREATE UNIQUE INDEX inbox_journal ON inbox(journal_id) WHERE journal_id IS NOT NULL;
