-- Counter desks: who works which counter, and failed log-in attempts (rate limiting).
-- One row per held counter: one person per counter at a time (the primary key),
-- one counter per person at a time (the unique user_id).
CREATE TABLE counter_sessions (
    counter_id INTEGER PRIMARY KEY REFERENCES counters(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id),
    taken_at TEXT NOT NULL
);
-- Failed staff log-ins in the recent window, counted per client address and per
-- username; rows older than the window are deleted as new ones come in.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    ip TEXT NOT NULL,
    username TEXT NOT NULL
);
CREATE INDEX login_failures_ip ON login_failures (ip, at);
CREATE INDEX login_failures_username ON login_failures (username, at);
