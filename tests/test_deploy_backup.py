"""deploy/raspberrypi/bin/antre_backup.py: online backup of the WAL database, restore."""

from __future__ import annotations

import gzip
import importlib.util
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "raspberrypi" / "bin" / "antre_backup.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("antre_backup", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ab = load()


def make_db(data: Path, rows: int = 1000) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    db = data / "antre.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE ticket (id INTEGER PRIMARY KEY, number TEXT, note TEXT)")
    conn.executemany(
        "INSERT INTO ticket (number, note) VALUES (?, ?)",
        [(f"A{i:03d}", "n" * 100) for i in range(rows)],
    )
    conn.commit()
    conn.close()
    return db


def unpack(path: Path, dest: Path) -> sqlite3.Connection:
    dest.write_bytes(gzip.decompress(path.read_bytes()))
    return sqlite3.connect(dest)


def test_backup_includes_wal_frames_of_a_running_server(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data")
    server = sqlite3.connect(db)  # the "server": its last commits are only in the WAL
    server.execute("PRAGMA wal_autocheckpoint=0")
    server.execute("INSERT INTO ticket (number) VALUES ('B999')")
    server.commit()
    assert (tmp_path / "data" / "antre.db-wal").stat().st_size > 0
    out = ab.backup(tmp_path / "data", tmp_path / "backups", tag="nightly", keep_days=14)
    server.close()
    assert out.parent == tmp_path / "backups"
    assert out.name.startswith("antre-") and out.name.endswith("-nightly.db.gz")
    copy = unpack(out, tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM ticket").fetchone()[0] == 1001
    assert copy.execute("SELECT number FROM ticket ORDER BY id DESC LIMIT 1").fetchone()[0] == "B999"
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [out.name]  # no temp files


def test_backup_while_the_server_writes(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data", rows=20000)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        conn = sqlite3.connect(db, timeout=30)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO ticket (number) VALUES ('W')")
            conn.commit()
            written[0] += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        out = ab.backup(tmp_path / "data", tmp_path / "backups", keep_days=3)
    finally:
        stop.set()
        thread.join()
    assert written[0] > 0
    copy = unpack(out, tmp_path / "copy.db")
    count = copy.execute("SELECT count(*) FROM ticket").fetchone()[0]
    assert 20000 <= count <= 20000 + written[0]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()


def test_old_backups_are_pruned_but_the_newest_is_kept(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    now = time.time()
    ages = {"antre-a-nightly.db.gz": 20, "antre-b-nightly.db.gz": 15, "antre-c-nightly.db.gz": 13}
    for name, days in ages.items():
        (backups / name).write_bytes(b"x")
        os.utime(backups / name, (now - days * 86400, now - days * 86400))
    (backups / "notes.txt").write_text("mine")
    os.utime(backups / "notes.txt", (now - 100 * 86400, now - 100 * 86400))
    removed = ab.prune(backups, keep_days=14, now=now)
    assert sorted(p.name for p in removed) == ["antre-a-nightly.db.gz", "antre-b-nightly.db.gz"]
    assert sorted(p.name for p in backups.iterdir()) == ["antre-c-nightly.db.gz", "notes.txt"]
    # A clock that jumped ahead (no RTC, wrong NTP) must not delete every backup.
    assert ab.prune(backups, keep_days=1, now=now + 365 * 86400) == []
    assert (backups / "antre-c-nightly.db.gz").exists()


def test_backup_prunes_by_keep_days(tmp_path: Path) -> None:
    make_db(tmp_path / "data", rows=10)
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "antre-20200101-023000-nightly.db.gz"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 30 * 86400,) * 2)
    out = ab.backup(tmp_path / "data", backups, keep_days=14)
    assert not old.exists() and out.exists()


def test_corrupt_database_is_not_backed_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "antre.db").write_bytes(b"not a database at all" * 200)
    with pytest.raises(sqlite3.DatabaseError):
        ab.backup(data, tmp_path / "backups", keep_days=14)
    assert list((tmp_path / "backups").iterdir()) == []
    with pytest.raises(ab.BackupError):
        ab.backup(tmp_path / "nothing", tmp_path / "backups", keep_days=14)


def test_restore_puts_the_backup_in_place_and_keeps_the_old_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = make_db(data, rows=10)
    out = ab.backup(data, tmp_path / "backups", keep_days=14)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("DELETE FROM ticket")
    conn.commit()
    conn.close()
    aside = ab.restore(data, out, now=time.time())
    assert aside.parent == data and (aside / "antre.db").exists()
    restored = sqlite3.connect(db)
    assert restored.execute("SELECT count(*) FROM ticket").fetchone()[0] == 10
    restored.close()
    broken = tmp_path / "broken.db.gz"
    broken.write_bytes(gzip.compress(b"rubbish" * 1000))
    before = db.read_bytes()
    with pytest.raises(ab.BackupError):
        ab.restore(data, broken)
    assert db.read_bytes() == before
    assert not (data / ".antre.db.restore.tmp").exists()


def test_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_db(data, rows=5)
    env = dict(os.environ, ANTRE_DATA_DIR=str(data), ANTRE_BACKUP_DAYS="3")
    env.pop("ANTRE_BACKUP_DIR", None)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--tag", "pre-upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    [out] = (data / "backups").glob("antre-*-pre-upgrade.db.gz")
    assert str(out) in proc.stdout
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "--data-dir", str(tmp_path / "missing")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "does not exist" in bad.stderr
    tag = subprocess.run([sys.executable, str(SCRIPT), "--tag", "../x"], env=env, capture_output=True, text=True)
    assert tag.returncode == 2
