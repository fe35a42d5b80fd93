-- Reports and the SKM survey (issue 6).

-- One SKM response per ticket (PermenPANRB 14/2017): nine scores 1-4 in the
-- order of antre.survey.ELEMENTS, an optional suggestion, and where it came
-- from.  tenant_id and service_id are those of the ticket's ORIGIN service
-- (the service it was issued for), and day is the ticket's local day, so that
-- the index of a period counts a response under the day of the service.
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL UNIQUE REFERENCES tickets(id),
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    counter_id INTEGER,
    day TEXT NOT NULL,
    u1 INTEGER NOT NULL CHECK (u1 BETWEEN 1 AND 4),
    u2 INTEGER NOT NULL CHECK (u2 BETWEEN 1 AND 4),
    u3 INTEGER NOT NULL CHECK (u3 BETWEEN 1 AND 4),
    u4 INTEGER NOT NULL CHECK (u4 BETWEEN 1 AND 4),
    u5 INTEGER NOT NULL CHECK (u5 BETWEEN 1 AND 4),
    u6 INTEGER NOT NULL CHECK (u6 BETWEEN 1 AND 4),
    u7 INTEGER NOT NULL CHECK (u7 BETWEEN 1 AND 4),
    u8 INTEGER NOT NULL CHECK (u8 BETWEEN 1 AND 4),
    u9 INTEGER NOT NULL CHECK (u9 BETWEEN 1 AND 4),
    comment TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL CHECK (channel IN ('tracking', 'tablet', 'api')),
    created_at TEXT NOT NULL
);
CREATE INDEX surveys_day ON surveys (day, tenant_id, service_id);

-- Calls out of first-come order (a specific number called ahead of the head of
-- its queue): few rows, found without reading the whole audit log.
CREATE INDEX audit_out_of_order ON audit (ticket_id)
    WHERE action = 'ticket.called' AND json_extract(details, '$.out_of_order') = 1;

-- Report queries read a range of local days of tickets.  This index holds every
-- figure they need, in the order they group by, so a month of a busy MPP
-- (100,000 tickets) is read from the index alone: measured 0.19 s instead of
-- 0.42 s of CPU for the month's pass (bench/reports_month.py).
CREATE INDEX tickets_report ON tickets (day, origin_service_id, status, counter_id, served_by, service_id,
                                        issued_at, first_called_at, called_at, finished_at);
