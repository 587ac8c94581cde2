-- Vestnik schema, version 5 (PostgreSQL): delivery receipts. A sent row may become delivered or
-- undelivered when the provider reports back; receipt_poll_at is when the receipt poller asks
-- the provider next (NULL: not polled, or given up at the horizon).
ALTER TABLE journal ADD COLUMN delivered_at TIMESTAMPTZ;
ALTER TABLE journal ADD COLUMN receipt TEXT;
ALTER TABLE journal ADD COLUMN receipt_poll_at TIMESTAMPTZ;
-- receipts name the provider's message id
CREATE INDEX journal_provider_message ON journal(provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
-- the poller's queue: only sent rows still waiting for a final receipt are indexed
CREATE INDEX journal_receipt_poll ON journal(receipt_poll_at)
    WHERE status = 'sent' AND receipt_poll_at IS NOT NULL;
-- staff alerts and the digest read failures by time
CREATE INDEX journal_failed_at ON journal(failed_at) WHERE failed_at IS NOT NULL;
