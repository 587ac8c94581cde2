-- Vestnik schema, version 4 (PostgreSQL): Standard Webhooks message ids seen within the
-- tolerance window, so a replayed signed request is answered as a duplicate by every process.
CREATE TABLE webhook_deliveries (
    webhook_id TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL,
    keep_until TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_keep ON webhook_deliveries(keep_until);
