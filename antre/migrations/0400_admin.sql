-- Admin (issue 6): device pairing by a short code, counters that can be retired,
-- and indexes for the audit page's filters.

-- A device page that is not paired asks for a short code and shows it on its own
-- screen; an admin types it on /admin/devices.  Only an HMAC of the code is kept,
-- and the browser that asked holds a random claim (in its session cookie) so that
-- only that browser receives the pairing.
CREATE TABLE pairing_codes (
    id INTEGER PRIMARY KEY,
    code_hash TEXT NOT NULL,
    claim_hash TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    token_id INTEGER REFERENCES tokens(id),
    paired_at TEXT,
    paired_by TEXT,
    claimed_at TEXT
);
CREATE INDEX pairing_codes_code ON pairing_codes (code_hash, expires_at);

-- A retired counter keeps its row (reports name it) but leaves screens and lists.
ALTER TABLE counters ADD COLUMN active INTEGER NOT NULL DEFAULT 1;

CREATE INDEX audit_action ON audit (action);
CREATE INDEX audit_at ON audit (at);
