-- MPP Digital feed: what the admin needs to see of each webhook's delivery.
-- (The webhooks table itself is in 0001; delivered_through is its outbox cursor.)
ALTER TABLE webhooks ADD COLUMN last_attempt_at TEXT;
ALTER TABLE webhooks ADD COLUMN last_error_at TEXT;
ALTER TABLE webhooks ADD COLUMN delivered_total INTEGER NOT NULL DEFAULT 0;
