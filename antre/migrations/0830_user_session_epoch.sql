-- A staff session carries the epoch of its account at log-in; a password
-- reset moves the epoch on, which ends every session opened before it (a
-- stolen or shared session does not outlive the new password).
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
