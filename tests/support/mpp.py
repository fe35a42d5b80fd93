"""A small MPP for core tests: two services with different priority rules, three counters."""

from __future__ import annotations

import json

from antre.rules import ALWAYS_OPEN
from antre.store import Store


def seed_small(store: Store, *, quota_walkin: int | None = None, hours: dict | None = None) -> dict[str, int]:
    with store.write() as db:
        t = db.conn.execute(
            "INSERT INTO tenants (code, name_id, name_en) VALUES ('DUK', 'Disdukcapil', 'Civil registry')"
        )
        tenant = t.lastrowid
        t2 = db.conn.execute("INSERT INTO tenants (code, name_id, name_en) VALUES ('IMI', 'Imigrasi', 'Immigration')")
        ids = {}
        for code, name, rule, tenant_id, quota in (("A", "KTP-el", "strict", tenant, quota_walkin),
                                                   ("B", "Kartu Keluarga", "interleave 2", tenant, None),
                                                   ("P", "Paspor", "strict", t2.lastrowid, None)):
            cur = db.conn.execute(
                "INSERT INTO services (tenant_id, code, name_id, name_en, hours, quota_walkin, standard_minutes, "
                "priority_rule) VALUES (?, ?, ?, ?, ?, ?, 10, ?)",
                (tenant_id, code, name, name, json.dumps(hours or ALWAYS_OPEN), quota, rule),
            )
            ids[code] = cur.lastrowid
        for name, zone, serves in (("Loket 1", "z1", ["A"]), ("Loket 2", "z1", ["A", "B"]), ("Loket 3", "z2", ["B"]),
                                   ("Loket 4", "z2", ["P"])):
            cur = db.conn.execute("INSERT INTO counters (name, zone) VALUES (?, ?)", (name, zone))
            ids[name] = cur.lastrowid
            for code in serves:
                db.conn.execute("INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                                (cur.lastrowid, ids[code]))
    return ids
