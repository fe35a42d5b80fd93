-- How many tickets wait, per local day, service and class (priority 0 or 1).
-- A ticket's position and estimated wait need the number of tickets of each
-- class in its queue: counting a queue's index range costs time in proportion
-- to its length, and it was a quarter of the work of issuing a ticket.  These
-- triggers keep the counts in the same transaction as every change of a
-- ticket, whichever code or process makes it; a row is removed when its count
-- reaches zero, so the table only holds today's live queues.
CREATE TABLE waiting_counts (
    day TEXT NOT NULL,
    service_id INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    n INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (day, service_id, priority)
) WITHOUT ROWID;

INSERT INTO waiting_counts (day, service_id, priority, n)
    SELECT day, service_id, priority, COUNT(*) FROM tickets WHERE status = 'waiting'
    GROUP BY day, service_id, priority;

CREATE TRIGGER waiting_counts_join_on_insert AFTER INSERT ON tickets WHEN NEW.status = 'waiting'
BEGIN
    INSERT INTO waiting_counts (day, service_id, priority, n) VALUES (NEW.day, NEW.service_id, NEW.priority, 1)
        ON CONFLICT (day, service_id, priority) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER waiting_counts_join_on_update AFTER UPDATE OF status, service_id, day, priority ON tickets
    WHEN NEW.status = 'waiting'
BEGIN
    INSERT INTO waiting_counts (day, service_id, priority, n) VALUES (NEW.day, NEW.service_id, NEW.priority, 1)
        ON CONFLICT (day, service_id, priority) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER waiting_counts_leave_on_update AFTER UPDATE OF status, service_id, day, priority ON tickets
    WHEN OLD.status = 'waiting'
BEGIN
    DELETE FROM waiting_counts
        WHERE day = OLD.day AND service_id = OLD.service_id AND priority = OLD.priority AND n = 1;
    UPDATE waiting_counts SET n = n - 1
        WHERE day = OLD.day AND service_id = OLD.service_id AND priority = OLD.priority;
END;

CREATE TRIGGER waiting_counts_leave_on_delete AFTER DELETE ON tickets WHEN OLD.status = 'waiting'
BEGIN
    DELETE FROM waiting_counts
        WHERE day = OLD.day AND service_id = OLD.service_id AND priority = OLD.priority AND n = 1;
    UPDATE waiting_counts SET n = n - 1
        WHERE day = OLD.day AND service_id = OLD.service_id AND priority = OLD.priority;
END;
