-- The queue, its outbox, the audit chain, tokens, staff, bookings, webhooks.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_id TEXT NOT NULL,
    name_en TEXT NOT NULL,
    icon TEXT NOT NULL DEFAULT '',
    sort INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL UNIQUE,
    name_id TEXT NOT NULL,
    name_en TEXT NOT NULL,
    icon TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL,
    quota_walkin INTEGER,
    quota_online INTEGER,
    standard_minutes INTEGER NOT NULL DEFAULT 10,
    priority_rule TEXT NOT NULL DEFAULT 'strict',
    active INTEGER NOT NULL DEFAULT 1,
    sort INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE counters (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    zone TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paused')),
    pause_reason TEXT,
    current_ticket_id INTEGER,
    user_id INTEGER,
    sort INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE counter_services (
    counter_id INTEGER NOT NULL REFERENCES counters(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id),
    PRIMARY KEY (counter_id, service_id)
);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    origin_service_id INTEGER NOT NULL REFERENCES services(id),
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    service_id INTEGER NOT NULL REFERENCES services(id),
    priority INTEGER NOT NULL DEFAULT 0,
    priority_reason TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('waiting', 'called', 'serving', 'served', 'no_show', 'cancelled')),
    source TEXT NOT NULL DEFAULT 'walkin',
    booking_code TEXT,
    lang TEXT NOT NULL DEFAULT 'id',
    issued_at TEXT NOT NULL,
    queue_at TEXT NOT NULL,
    first_called_at TEXT,
    called_at TEXT,
    started_at TEXT,
    finished_at TEXT,
    counter_id INTEGER,
    target_counter_id INTEGER,
    call_count INTEGER NOT NULL DEFAULT 0,
    served_by TEXT,
    track_token TEXT NOT NULL UNIQUE,
    device TEXT,
    UNIQUE (origin_service_id, day, seq)
);
CREATE INDEX tickets_queue ON tickets (service_id, status, day, priority, queue_at);
CREATE INDEX tickets_served ON tickets (service_id, day, finished_at) WHERE status = 'served';
CREATE INDEX tickets_day ON tickets (day, origin_service_id);
CREATE TABLE rule_state (
    service_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    normal_streak INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, day)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    ticket_id INTEGER NOT NULL,
    counter_id INTEGER,
    payload TEXT NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    device TEXT,
    action TEXT NOT NULL,
    ticket_id INTEGER,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'counter')),
    tenant_id INTEGER REFERENCES tenants(id),
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE bookings (
    code TEXT PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    slot_start TEXT NOT NULL,
    slot_day TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'checked_in', 'cancelled')),
    ticket_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX bookings_day ON bookings (service_id, slot_day);
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_through INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    last_success_at TEXT
);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
);

