"""The demo MPP: a realistic mid-size Mal Pelayanan Publik.

Seeded into an empty data dir by ``serve --demo`` (and ``./antre.sh run``).  Its
services are open around the clock so it can be tried at any hour, and all but
a few have no daily quota.  Seeding runs in one ``BEGIN IMMEDIATE`` transaction
that first checks the database is empty, so two processes starting at once on
one data dir seed it exactly once.
"""

from __future__ import annotations

import json
from typing import Any

from antre.rules import ALWAYS_OPEN
from antre.store import Store

# (code, name_id, name_en, icon, [(prefix, name_id, name_en, standard_minutes, quota_walkin, quota_online, rule)])
TENANTS: list[tuple[str, str, str, str, list[tuple[Any, ...]]]] = [
    ("DUKCAPIL", "Disdukcapil", "Civil Registry (Disdukcapil)", "id-card", [
        ("A", "KTP Elektronik", "Electronic ID card (KTP-el)", 8, None, None, "interleave 3"),
        ("B", "Kartu Keluarga", "Family card", 10, None, None, "interleave 3"),
        ("C", "Akta Kelahiran", "Birth certificate", 10, None, None, "strict"),
        ("D", "Akta Kematian", "Death certificate", 10, None, None, "strict"),
        ("KIA", "Kartu Identitas Anak", "Child ID card (KIA)", 6, None, None, "strict"),
        ("PD", "Pindah Datang", "Change of residence", 12, None, None, "strict"),
    ]),
    ("IMIGRASI", "Kantor Imigrasi", "Immigration Office", "passport", [
        ("P", "Paspor Baru", "New passport", 15, 30, 30, "strict"),
        ("PG", "Penggantian Paspor", "Passport renewal", 12, 30, 30, "strict"),
    ]),
    ("BPJSKES", "BPJS Kesehatan", "BPJS Health Insurance", "health", [
        ("E", "Pendaftaran Peserta", "Member registration", 10, None, None, "interleave 2"),
        ("F", "Perubahan Data Peserta", "Member data change", 8, None, None, "interleave 2"),
        ("G", "Informasi dan Pengaduan", "Information and complaints", 10, None, None, "strict"),
    ]),
    ("BPJSTK", "BPJS Ketenagakerjaan", "BPJS Employment Insurance", "worker", [
        ("H", "Klaim Jaminan Hari Tua", "Old-age benefit claim (JHT)", 15, None, None, "strict"),
        ("J", "Pendaftaran Peserta", "Member registration", 10, None, None, "strict"),
        ("K", "Informasi Kepesertaan", "Membership information", 8, None, None, "strict"),
    ]),
    ("SAMSAT", "Samsat / Bapenda", "Vehicle tax office (Samsat)", "car", [
        ("L", "Pajak Kendaraan Tahunan", "Annual vehicle tax", 6, None, None, "interleave 4"),
        ("M", "Pajak Kendaraan Lima Tahunan", "Five-yearly vehicle tax", 12, None, None, "strict"),
        ("N", "Balik Nama Kendaraan", "Vehicle ownership transfer", 15, None, None, "strict"),
        ("PBB", "Pajak Bumi dan Bangunan", "Land and building tax", 8, None, None, "strict"),
    ]),
    ("POLRES", "Polres", "Police (Polres)", "shield", [
        ("S", "SKCK Baru", "New police clearance (SKCK)", 10, None, None, "strict"),
        ("SP", "Perpanjangan SKCK", "Police clearance renewal", 7, None, None, "strict"),
        ("SIM", "Perpanjangan SIM", "Driving licence renewal", 12, 50, 50, "strict"),
    ]),
    ("KPP", "KPP Pratama", "Tax Office (KPP Pratama)", "receipt", [
        ("T", "Pendaftaran NPWP", "Taxpayer number registration", 10, None, None, "strict"),
        ("U", "Pelaporan SPT", "Tax return filing", 8, None, None, "strict"),
        ("V", "Konsultasi Perpajakan", "Tax consultation", 15, None, None, "strict"),
    ]),
    ("DPMPTSP", "DPMPTSP Perizinan", "One-stop licensing (DPMPTSP)", "stamp", [
        ("W", "Nomor Induk Berusaha", "Business ID number (NIB)", 15, None, None, "strict"),
        ("X", "Persetujuan Bangunan Gedung", "Building approval (PBG)", 20, None, None, "strict"),
        ("Y", "Izin Reklame", "Billboard permit", 12, None, None, "strict"),
        ("Z", "Konsultasi Perizinan", "Licensing consultation", 15, None, None, "strict"),
    ]),
    ("BPN", "Kantor Pertanahan (BPN)", "Land Office (BPN)", "map", [
        ("AB", "Pengecekan Sertifikat", "Certificate check", 10, None, None, "strict"),
        ("AC", "Peralihan Hak Tanah", "Land title transfer", 20, None, None, "strict"),
        ("AD", "Informasi Pertanahan", "Land information", 8, None, None, "strict"),
    ]),
    ("KEMENAG", "Kementerian Agama", "Ministry of Religious Affairs", "book", [
        ("AE", "Pendaftaran Haji", "Hajj registration", 20, 20, 20, "strict"),
        ("AF", "Legalisasi Buku Nikah", "Marriage book legalisation", 8, None, None, "strict"),
    ]),
    ("PA", "Pengadilan Agama", "Religious Court", "scale", [
        ("AG", "Pendaftaran Perkara", "Case registration", 20, None, None, "strict"),
        ("AH", "Informasi Perkara", "Case information", 10, None, None, "strict"),
        ("AI", "Pengambilan Akta Cerai", "Divorce certificate pick-up", 6, None, None, "strict"),
    ]),
    ("BJB", "Bank bjb", "Bank bjb", "bank", [
        ("AJ", "Pembayaran Pajak dan Retribusi", "Tax and levy payments", 5, None, None, "interleave 3"),
        ("AK", "Pembukaan Rekening", "Account opening", 15, None, None, "strict"),
    ]),
    ("DISNAKER", "Dinas Tenaga Kerja", "Manpower Office", "briefcase", [
        ("AL", "Kartu Pencari Kerja (AK-1)", "Job seeker card (AK-1)", 8, None, None, "strict"),
        ("AM", "Pengesahan Peraturan Perusahaan", "Company regulation approval", 15, None, None, "strict"),
    ]),
    ("PDAM", "PDAM Tirta", "Water utility (PDAM)", "drop", [
        ("AN", "Pemasangan Baru", "New connection", 12, None, None, "strict"),
        ("AO", "Pengaduan Pelanggan", "Customer complaints", 10, None, None, "strict"),
    ]),
]

# (counter name, zone, [service prefixes])
COUNTERS: list[tuple[str, str, list[str]]] = [
    ("Loket 1", "lantai-1", ["A", "KIA"]),
    ("Loket 2", "lantai-1", ["A", "B"]),
    ("Loket 3", "lantai-1", ["B", "C", "D"]),
    ("Loket 4", "lantai-1", ["C", "D", "PD"]),
    ("Loket 5", "lantai-1", ["P", "PG"]),
    ("Loket 6", "lantai-1", ["P", "PG"]),
    ("Loket 7", "lantai-1", ["E", "F"]),
    ("Loket 8", "lantai-1", ["E", "F", "G"]),
    ("Loket 9", "lantai-1", ["H", "J"]),
    ("Loket 10", "lantai-1", ["H", "K"]),
    ("Loket 11", "lantai-1", ["L", "M"]),
    ("Loket 12", "lantai-1", ["L", "N"]),
    ("Loket 13", "lantai-1", ["PBB"]),
    ("Loket 14", "lantai-2", ["S", "SP"]),
    ("Loket 15", "lantai-2", ["SIM"]),
    ("Loket 16", "lantai-2", ["T", "U"]),
    ("Loket 17", "lantai-2", ["U", "V"]),
    ("Loket 18", "lantai-2", ["W", "Y"]),
    ("Loket 19", "lantai-2", ["X", "Z"]),
    ("Loket 20", "lantai-2", ["AB", "AC", "AD"]),
    ("Loket 21", "lantai-2", ["AE", "AF"]),
    ("Loket 22", "lantai-2", ["AG", "AH", "AI"]),
    ("Loket 23", "lantai-2", ["AJ", "AK"]),
    ("Loket 24", "lantai-2", ["AJ"]),
    ("Loket 25", "lantai-2", ["AL", "AM"]),
    ("Loket 26", "lantai-2", ["AN", "AO"]),
]

RUNNING_TEXT = (
    "Selamat datang di Mal Pelayanan Publik. Layanan prioritas tersedia bagi penyandang disabilitas, "
    "lansia, ibu hamil dan pengunjung dengan anak kecil. Seluruh layanan tidak dipungut biaya kecuali "
    "yang diatur undang-undang. • Welcome to the Public Service Mall. Priority service is available."
)


def seed_demo(store: Store, mpp_name: str = "Mal Pelayanan Publik Kota Antre") -> bool:
    """Seed the demo MPP into an empty database.  Returns False if it had data."""
    with store.write() as db:
        if db.conn.execute("SELECT COUNT(*) FROM tenants").fetchone()[0]:
            return False
        hours = json.dumps(ALWAYS_OPEN)
        prefix_ids: dict[str, int] = {}
        sort = 0
        for t_sort, (code, name_id, name_en, icon, services) in enumerate(TENANTS):
            cur = db.conn.execute(
                "INSERT INTO tenants (code, name_id, name_en, icon, sort) VALUES (?, ?, ?, ?, ?)",
                (code, name_id, name_en, icon, t_sort),
            )
            tenant_id = cur.lastrowid
            for prefix, s_id, s_en, minutes, q_walk, q_online, rule in services:
                sort += 1
                cur = db.conn.execute(
                    "INSERT INTO services (tenant_id, code, name_id, name_en, icon, hours, quota_walkin, "
                    "quota_online, standard_minutes, priority_rule, sort) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (tenant_id, prefix, s_id, s_en, icon, hours, q_walk, q_online, minutes, rule, sort),
                )
                prefix_ids[prefix] = int(cur.lastrowid or 0)
        for c_sort, (name, zone, prefixes) in enumerate(COUNTERS):
            cur = db.conn.execute(
                "INSERT INTO counters (name, zone, sort) VALUES (?, ?, ?)", (name, zone, c_sort)
            )
            for prefix in prefixes:
                db.conn.execute(
                    "INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                    (cur.lastrowid, prefix_ids[prefix]),
                )
        store.set_setting(db, "mpp_name", mpp_name)
        store.set_setting(db, "running_text", RUNNING_TEXT)
        store.append_audit(db, actor="system", action="demo.seeded",
                           details={"tenants": len(TENANTS), "counters": len(COUNTERS)})
        return True
