#!/usr/bin/env python3
"""Online backup of the Antre database, and its restore.

Installed as ``PREFIX/bin/antre-backup`` and run every night by
``antre-backup.service`` (as the antre user), and by ``install.sh --upgrade``
before anything is replaced.  Standard library only: it runs with the system's
``python3`` even when the application's virtual environment is broken.

Backup: SQLite's online backup API copies ``DATA_DIR/antre.db`` (WAL mode, the
server keeps writing) in one step, inside one read transaction, so the copy is a
consistent snapshot that includes the committed WAL frames.  The copy is checked
with ``PRAGMA integrity_check``, compressed to
``BACKUP_DIR/antre-YYYYmmdd-HHMMSS-TAG.db.gz`` (written under a temporary name, then
renamed), and backups older than N days are deleted; the newest one is always kept,
whatever the clock says.

Restore (server stopped): ``antre-backup --restore FILE`` checks the backup,
moves the current database and its -wal/-shm files aside, and puts the backup in
place.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

DB_NAME = "antre.db"
PREFIX = "antre-"
SUFFIX = ".db.gz"


class BackupError(Exception):
    pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    if problems:
        raise BackupError(f"{db}: integrity check failed: {'; '.join(problems[:5])}")


def backup(
    data_dir: Path,
    backup_dir: Path,
    *,
    tag: str = "nightly",
    keep_days: int = 14,
    now: float | None = None,
) -> Path:
    """Back up ``data_dir/antre.db`` into ``backup_dir``; returns the new file."""
    db = data_dir / DB_NAME
    if not db.is_file():
        raise BackupError(f"{db} does not exist")
    if keep_days < 1:
        raise BackupError("keep_days must be at least 1")
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    final = backup_dir / f"{PREFIX}{stamp}-{tag}{SUFFIX}"
    raw = backup_dir / f".{final.name}.db.tmp"
    packed = backup_dir / f".{final.name}.tmp"
    try:
        src = sqlite3.connect(db, timeout=60)
        dst = sqlite3.connect(raw)
        try:
            # pages=-1: the whole database in one step, one consistent snapshot
            # (stepping in parts would restart whenever the server writes).
            src.backup(dst, pages=-1)
        finally:
            dst.close()
            src.close()
        _check(raw)
        with raw.open("rb") as fin, gzip.open(packed, "wb", compresslevel=6) as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
        with packed.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(packed, final)
        _fsync_dir(backup_dir)
    finally:
        raw.unlink(missing_ok=True)
        packed.unlink(missing_ok=True)
    prune(backup_dir, keep_days=keep_days, now=now, keep=final)
    return final


def prune(backup_dir: Path, *, keep_days: int, now: float | None = None, keep: Path | None = None) -> list[Path]:
    """Delete backups older than ``keep_days``; never the newest, never ``keep``."""
    now = time.time() if now is None else now
    files = sorted(
        (p for p in backup_dir.glob(f"{PREFIX}*{SUFFIX}") if p.is_file()),
        key=lambda p: p.stat().st_mtime,
    )
    if not files:
        return []
    protected = {files[-1]}
    if keep is not None:
        protected.add(keep)
    limit = now - keep_days * 86400
    removed = []
    for path in files:
        if path not in protected and path.stat().st_mtime < limit:
            path.unlink()
            removed.append(path)
    return removed


def restore(data_dir: Path, backup_file: Path, *, now: float | None = None) -> Path:
    """Put ``backup_file`` in place of ``data_dir/antre.db``; returns where the old
    database was moved (the server must be stopped)."""
    db = data_dir / DB_NAME
    tmp = data_dir / f".{DB_NAME}.restore.tmp"
    try:
        opener = gzip.open if backup_file.name.endswith(".gz") else open
        with opener(backup_file, "rb") as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
            fout.flush()
            os.fsync(fout.fileno())
        _check(tmp)
    except (OSError, EOFError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{backup_file} is not a usable backup: {exc}") from exc
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    aside = data_dir / f"before-restore-{stamp}"
    aside.mkdir()
    for suffix in ("", "-wal", "-shm"):
        current = data_dir / f"{DB_NAME}{suffix}"
        if current.exists():
            os.replace(current, aside / current.name)
    os.replace(tmp, db)
    _fsync_dir(data_dir)
    return aside


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="antre-backup", description="Back up (or restore) the Antre database.")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("ANTRE_DATA_DIR", "/var/lib/antre")))
    parser.add_argument("--backup-dir", type=Path, default=None)
    parser.add_argument("--keep-days", type=int, default=int(os.environ.get("ANTRE_BACKUP_DAYS") or 14))
    parser.add_argument("--tag", default="manual", help="word in the file name (nightly, ...)")
    parser.add_argument("--restore", type=Path, metavar="FILE", help="restore this backup")
    args = parser.parse_args(argv)
    backup_dir = args.backup_dir or Path(os.environ.get("ANTRE_BACKUP_DIR") or args.data_dir / "backups")
    if not args.tag.replace("-", "").isalnum():
        parser.error("--tag: letters, digits and '-' only")
    try:
        if args.restore:
            aside = restore(args.data_dir, args.restore)
            print(f"antre-backup: restored {args.restore}; the previous database is in {aside}")
        else:
            path = backup(args.data_dir, backup_dir, tag=args.tag, keep_days=args.keep_days)
            print(f"antre-backup: wrote {path} ({path.stat().st_size} bytes)")
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"antre-backup: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
