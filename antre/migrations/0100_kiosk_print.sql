-- Kiosk ticket printing: the durable print spool and per-kiosk printer settings.
--
-- One print job per ticket (UNIQUE ticket_id), so a ticket is never queued
-- twice.  sent_at is written, durably, *before* the bytes go to the printer:
-- a job with sent_at set is never sent again, whatever happens after.
CREATE TABLE print_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL UNIQUE REFERENCES tickets(id),
    day TEXT NOT NULL,
    number TEXT NOT NULL,
    kiosk_token_id INTEGER,
    kiosk_name TEXT NOT NULL DEFAULT '',
    printer_uri TEXT,
    via_agent INTEGER NOT NULL DEFAULT 0,
    data BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'printing', 'printed', 'failed', 'retrying')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_outcome TEXT,
    last_status TEXT,
    last_detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    sent_at TEXT,
    next_attempt_at TEXT,
    finished_at TEXT
);
CREATE INDEX print_jobs_open ON print_jobs (state, via_agent, kiosk_token_id, id)
    WHERE state IN ('queued', 'printing', 'retrying');
-- Per-kiosk printing state.  Which printer a kiosk uses is the admin's setting
-- ``printers`` ({"<token id>": URI or "agent"}); here: its paper width and
-- what its print agent last reported.
CREATE TABLE kiosk_printers (
    token_id INTEGER PRIMARY KEY REFERENCES tokens(id),
    paper_mm INTEGER CHECK (paper_mm IS NULL OR paper_mm IN (58, 80)),
    agent_seen_at TEXT,
    agent_printer_status TEXT,
    updated_at TEXT
);
