"""The one module that owns Antre's SQLite database.

* WAL journal, ``synchronous=FULL``: a ticket is on disk before the kiosk is
  answered, so a printed number survives a power cut.
* Every write is one ``BEGIN IMMEDIATE`` transaction (:meth:`Store.write`).  A
  plain ``BEGIN`` takes the write lock late and fails with "database is
  locked" when several processes write; IMMEDIATE queues them instead.
* Concurrent writers share commits (:meth:`Store.run_write`, a group commit:
  one fsync for all of them), and a write that can serve many callers at once
  is run once for all of its callers in a batch (:meth:`Store.run_grouped_write`,
  the kiosks' tickets).
* Numbers are unique per service per local day by a UNIQUE constraint, not
  only by code.
* Every state change of a ticket is written with its event and its audit row
  in the same transaction (a transactional outbox): events leave the process
  only after the commit, and none exists without its change or vice versa.
* The audit log is append-only (triggers refuse UPDATE and DELETE) and each
  row carries the hash of the row before it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlite_utils

from antre.blocking import native_lock, start_native_thread

T = TypeVar("T")
DB_FILENAME = "antre.db"
BUSY_TIMEOUT_MS = 15000
#: How long a leader waits for busy writers to queue up before committing.
GATHER_SECONDS = 0.0005
#: Page cache of the group commit's connection, in KiB.
WRITER_CACHE_KIB = 32768
#: How often the background checkpointer moves the WAL into the database.
CHECKPOINT_SECONDS = 0.2
#: SQLite's own checkpoint on commit, a safety net for processes without the
#: background checkpointer running (pages of 4 KiB: about 40 MB of WAL).
AUTOCHECKPOINT_PAGES = 10000
#: How long :meth:`Store.close` waits for the checkpointer to close its connection.
CLOSE_WAIT_SECONDS = 5.0


MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def migration_files() -> list[Path]:
    """Schema steps: ``antre/migrations/NNNN_name.sql``, applied once each, in name order.

    Each part of Antre adds its own file (its own number range), so parts
    written side by side never collide on a shared list.
    """
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


class AuditTamperedError(Exception):
    """The audit chain does not verify."""


@dataclass
class AuditCheck:
    rows: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""


class EventEntry(NamedTuple):
    """One event for the outbox: a ticket's state change, as subscribers receive it."""

    type: str
    occurred_at: str  #: local time, ISO 8601
    ticket: dict[str, Any]  #: the ticket in the contract's shape (stored as compact JSON)
    counter_id: int | None


class AuditEntry(NamedTuple):
    """One action for the audit log (its hash is made when it is appended)."""

    at: str  #: UTC, ISO 8601
    actor: str
    device: str | None
    action: str
    ticket_id: int | None
    details: dict[str, Any]


def _now_utc() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


class Store:
    """The SQLite database of one Antre data dir.

    Connections are pooled: work runs in real threads (see
    :mod:`antre.blocking`), and a connection is only ever used by one of them
    at a time.
    """

    def __init__(self, data_dir: str | os.PathLike[str], *, filename: str = DB_FILENAME) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / filename
        self._pool: list[sqlite_utils.Database] = []
        self._lock = native_lock()
        self._pending_lock = native_lock()
        self._leader = native_lock()
        self._pending: list[_WriteItem] = []
        self._recent_batches: collections.deque[int] = collections.deque([0], maxlen=8)
        #: while a leader gathers: how many queued writers complete its batch (else 0)
        self._gather_want = 0
        self._gathered = native_lock()  # released by the writer that completes the batch
        self._gathered.acquire()
        self._checkpointer: Any = None
        self._writer_db: sqlite_utils.Database | None = None
        self.migrate()

    # --- connections ---------------------------------------------------------

    def _open(self) -> sqlite_utils.Database:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.row_factory = sqlite3.Row
        return sqlite_utils.Database(conn)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            db = self._pool.pop() if self._pool else None
        if db is None:
            db = self._open()
        try:
            yield db
        finally:
            if db.conn.in_transaction:  # never hand on a half-open transaction
                db.conn.execute("ROLLBACK")
            with self._lock:
                if len(self._pool) < 16:
                    self._pool.append(db)
                    db = None
            if db is not None:
                db.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """A connection for reading; a consistent snapshot for the block."""
        with self._connection() as db:
            db.conn.execute("BEGIN")
            try:
                yield db
            finally:
                if db.conn.in_transaction:
                    db.conn.execute("COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One ``BEGIN IMMEDIATE`` transaction; committed when the block ends."""
        with self._connection() as db:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")

    def run_write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn(db)`` in a write transaction, committed before this returns.

        Group commit: writers that arrive while another batch is committing
        are run together in the next transaction, each inside its own
        SAVEPOINT (a refusal or error in one rolls back only its own writes).
        Every caller still returns only after *its* commit reached the disk,
        but one fsync serves the whole batch, which is what lets a busy
        morning's kiosks and counters write thousands of changes a second.

        The leader commits one batch, then hands the lead to the oldest
        waiting writer and returns to its own caller (as LevelDB's writer
        queue does): nobody's answer waits for other people's later batches.
        """
        return self._submit(_WriteItem(fn, native_lock()))

    def _submit(self, item: _WriteItem) -> Any:
        """Queue ``item`` for the next group commit; return its result once committed."""
        if self._checkpointer is None:
            self._start_checkpointer()
        item.done.acquire()
        with self._pending_lock:
            self._pending.append(item)
            if self._gather_want and len(self._pending) >= self._gather_want:
                self._gather_want = 0  # the leader waiting for a full batch has it
                self._gathered.release()
        while not item.finished:
            if self._leader.acquire(blocking=False):
                self._lead(item)
                continue
            # A leader always wakes the next writer when it steps down (see
            # _lead), so this wait needs no polling; its timeout is only a safety net.
            item.done.acquire(timeout=0.5)
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def run_grouped_write(self, many: Callable[[sqlite_utils.Database, list[Any]], list[Any]], arg: Any) -> Any:
        """Like :meth:`run_write`, for a write that can be done for many callers at once.

        ``many(db, args)`` does the write for every ``arg`` of a list, in that
        order, and returns one entry per ``arg``: its result, or the
        exception that refuses it.  A refused ``arg`` must have written
        nothing.  Writers of the same ``many`` that meet in one group commit
        are run by one call of it (one statement can then serve them all);
        a writer alone is run as ``many(db, [arg])``.  If ``many`` raises, its
        writes are rolled back and each ``arg`` is run alone, so one writer's
        failure is still only its own.
        """
        return self._submit(_WriteItem.grouped(many, arg))

    def _lead(self, mine: _WriteItem) -> None:
        """Commit batches until ``mine`` is committed, then hand the lead on.

        While writers are busy (one of the last 8 batches held three or more),
        the leader waits up to half a millisecond for the writers just
        answered to queue again, so one fsync keeps serving a whole batch
        instead of batches of one and many taking turns.  Two writers meeting
        by chance (a kiosk's ticket and the previous ticket's print result)
        do not make the next lone writers wait.
        """
        try:
            while not mine.finished:
                want = max(self._recent_batches)
                if want > 2:
                    self._gather(want)
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                if not batch:  # someone else already ran ``mine``
                    break
                self._recent_batches.append(len(batch))
                self._run_batch(batch)
        finally:
            self._leader.release()
            # Wake the oldest writer still waiting: it takes the lead next.
            with self._pending_lock:
                nxt = self._pending[0] if self._pending else None
            if nxt is not None:
                with contextlib.suppress(RuntimeError):  # already woken
                    nxt.done.release()

    def _gather(self, want: int) -> None:
        """Wait up to GATHER_SECONDS until ``want`` writers are queued.

        The writer that completes the batch wakes the leader (no polling: a
        wake-up per batch, not one every few microseconds).
        """
        with self._pending_lock:
            if len(self._pending) >= want:
                return
            self._gather_want = want
        if self._gathered.acquire(timeout=GATHER_SECONDS):
            return
        with self._pending_lock:
            self._gather_want = 0
            # A writer may have completed the batch between the timeout and
            # now: take back its wake-up so the next gather starts unset.
            self._gathered.acquire(blocking=False)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[sqlite_utils.Database]:
        """The group commit's own connection (only the leader uses it).

        SQLite drops a connection's whole page cache whenever another
        connection changed the database since its last transaction; a
        connection that does all of this process's queue writes keeps the hot
        index pages of today's queues cached from one batch to the next.

        Its temporary store is in memory: a batch's savepoints keep the pages
        they change in a sub-journal, which SQLite otherwise spills to a new
        temporary file once it passes 64 KiB (a batch of 8 tickets changes
        about 40 pages): a file created, written, closed and deleted per
        batch, a third of the system time of a busy ``bench.core_issue``.
        """
        db = self._writer_db
        if db is None:
            db = self._writer_db = self._open()
            db.conn.execute(f"PRAGMA cache_size = {-WRITER_CACHE_KIB}")
            db.conn.execute("PRAGMA temp_store = MEMORY")
        try:
            yield db
        finally:
            if db.conn.in_transaction:  # never leave a half-open transaction
                db.conn.execute("ROLLBACK")

    def _run_batch(self, batch: list[_WriteItem]) -> None:
        try:
            with self._writer() as db:
                db.conn.execute("BEGIN IMMEDIATE")
                if len(batch) == 1:  # alone: no savepoint needed, a failure rolls back the transaction
                    try:
                        batch[0].result = batch[0].fn(db)
                    except Exception as exc:  # noqa: BLE001 - handed to its caller
                        if db.conn.in_transaction:
                            db.conn.execute("ROLLBACK")
                        batch[0].error = exc
                        return
                    db.conn.execute("COMMIT")
                    return
                try:
                    for unit in _units(batch):
                        if len(unit) == 1:
                            _run_in_savepoint(db, unit[0])
                        else:
                            _run_group(db, unit)
                    db.conn.execute("COMMIT")
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
        except Exception as exc:  # noqa: BLE001 - the whole batch failed: tell everyone
            for item in batch:
                item.result, item.error = None, exc
        finally:
            for item in batch:
                item.finished = True
                with contextlib.suppress(RuntimeError):  # woken to lead meanwhile
                    item.done.release()

    def _start_checkpointer(self) -> None:
        """Checkpoint the WAL in a thread of its own, off every writer's path.

        SQLite's automatic checkpoint runs inside the commit that crosses the
        threshold: that writer (and the kiosk waiting on it) pays for copying
        and syncing the whole WAL.  Here a real thread with its own connection
        does it every CHECKPOINT_SECONDS; PASSIVE never blocks a writer.  It
        stops on :meth:`close`, or when the Store is garbage-collected.
        """
        with self._lock:
            if self._checkpointer is not None:
                return
            self._checkpointer = checkpointer = _Checkpointer(native_lock(), native_lock())
            checkpointer.stop.acquire()
            checkpointer.running.acquire()
        weakref.finalize(self, checkpointer.request_stop)
        start_native_thread(_checkpoint_loop, self._open().conn, checkpointer)

    def close(self) -> None:
        """Close every connection of this Store, the checkpointer's included.

        Returns once the checkpointer has closed its connection (or after
        CLOSE_WAIT_SECONDS): the last connection to close checkpoints the WAL
        and removes it, and whoever copies the data dir next (a backup, a
        test) must not find it half gone.
        """
        with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None
            pool, self._pool = self._pool, []
            if self._writer_db is not None and self._leader.acquire(blocking=False):
                pool.append(self._writer_db)
                self._writer_db = None
                self._leader.release()
        for db in pool:
            db.close()
        if checkpointer is not None:
            checkpointer.request_stop()
            checkpointer.wait_stopped(CLOSE_WAIT_SECONDS)

    # --- migrations ----------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply the schema steps not applied yet; safe when several processes start at once.

        Returns the names applied by this call.
        """
        applied_now: list[str] = []
        with self._connection() as db:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                db.conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                done = {r[0] for r in db.conn.execute("SELECT name FROM schema_migrations")}
                for path in migration_files():
                    if path.name in done:
                        continue
                    for statement in _split_sql(path.read_text(encoding="utf-8")):
                        db.conn.execute(statement)
                    db.conn.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (path.name, _now_utc())
                    )
                    applied_now.append(path.name)
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
        return applied_now

    # --- settings --------------------------------------------------------------

    def get_setting(self, db: sqlite_utils.Database, key: str, default: Any = None) -> Any:
        row = db.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, db: sqlite_utils.Database, key: str, value: Any) -> None:
        db.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def meta(self, key: str) -> str | None:
        with self.read() as db:
            row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else row[0]

    def meta_get_or_create(self, key: str, make: Any) -> str:
        """A value stored once and for all (e.g. the session secret)."""
        with self.write() as db:
            row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return row[0]
            value = make()
            db.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    # --- outbox and audit ------------------------------------------------------

    @staticmethod
    def append_event(
        db: sqlite_utils.Database, type_: str, occurred_at: str, ticket: dict[str, Any],
        counter_id: int | None,
    ) -> int:
        """Append one event to the outbox (inside the caller's transaction); its id."""
        return Store.append_events(db, [EventEntry(type_, occurred_at, ticket, counter_id)])[0]

    @staticmethod
    def append_events(db: sqlite_utils.Database, entries: Sequence[EventEntry]) -> list[int]:
        """Append events to the outbox in order, with one statement per 64; their ids, in order."""
        if len(entries) == 1:  # the common case: no RETURNING (SQLite buffers its rows)
            e = entries[0]
            cur = db.conn.execute(
                "INSERT INTO events (type, occurred_at, ticket_id, counter_id, payload) VALUES (?, ?, ?, ?, ?)",
                (e.type, e.occurred_at, e.ticket["id"], e.counter_id, _compact(e.ticket)),
            )
            return [int(cur.lastrowid or 0)]
        returned = insert_returning(
            db, "INSERT INTO events (type, occurred_at, ticket_id, counter_id, payload) VALUES", "(?, ?, ?, ?, ?)",
            [(e.type, e.occurred_at, e.ticket["id"], e.counter_id, _compact(e.ticket)) for e in entries],
            "id, ticket_id",
        )
        returned.sort()  # rows get their ids in the order they are inserted, as the check below confirms
        if [r[1] for r in returned] != [e.ticket["id"] for e in entries]:
            raise RuntimeError("events were not numbered in the order they were given")
        return [r[0] for r in returned]

    @staticmethod
    def append_audit(
        db: sqlite_utils.Database, *, actor: str, action: str, device: str | None = None,
        ticket_id: int | None = None, details: dict[str, Any] | None = None, at: str | None = None,
    ) -> None:
        """Append a row to the hash-chained audit log (inside the caller's transaction)."""
        Store.append_audits(db, [AuditEntry(at or _now_utc(), actor, device, action, ticket_id, details or {})])

    @staticmethod
    def append_audits(db: sqlite_utils.Database, entries: Sequence[AuditEntry]) -> None:
        """Append rows to the audit log in order: one read of the chain's end, one insert."""
        if not entries:
            return
        prev = db.conn.execute("SELECT hash FROM audit WHERE id = (SELECT MAX(id) FROM audit)").fetchone()
        prev_hash = prev[0] if prev else "0" * 64
        rows = []
        for e in entries:
            details = _canonical(e.details)
            row_hash = audit_hash(prev_hash, {"at": e.at, "actor": e.actor, "device": e.device, "action": e.action,
                                              "ticket_id": e.ticket_id, "details": details})
            rows.append((e.at, e.actor, e.device, e.action, e.ticket_id, details, prev_hash, row_hash))
            prev_hash = row_hash
        db.conn.executemany(
            "INSERT INTO audit (at, actor, device, action, ticket_id, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def verify_audit(self) -> AuditCheck:
        """Recompute the whole chain; report the first row that does not fit."""
        with self.read() as db:
            prev_hash = "0" * 64
            count = 0
            for r in db.conn.execute(
                "SELECT id, at, actor, device, action, ticket_id, details, prev_hash, hash "
                "FROM audit ORDER BY id"
            ):
                count += 1
                row = {k: r[k] for k in ("at", "actor", "device", "action", "ticket_id", "details")}
                if r["prev_hash"] != prev_hash:
                    return AuditCheck(count, False, r["id"], "prev_hash does not match the row before")
                if audit_hash(prev_hash, row) != r["hash"]:
                    return AuditCheck(count, False, r["id"], "row content does not match its hash")
                prev_hash = r["hash"]
            return AuditCheck(count, True)

    # --- leases (one process of several does a job) ----------------------------

    def take_lease(self, name: str, holder: str, seconds: float, now: float) -> bool:
        """Take or renew a named lease; True when ``holder`` holds it now."""
        with self.write() as db:
            row = db.conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
            if row is None or row["holder"] == holder or row["expires_at"] < now:
                db.conn.execute(
                    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "expires_at = excluded.expires_at",
                    (name, holder, now + seconds),
                )
                return True
            return False

    def release_lease(self, name: str, holder: str) -> None:
        with self.write() as db:
            db.conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


@dataclass
class _Checkpointer:
    """The handles of one background checkpointer thread (native locks)."""

    stop: Any  #: released to ask the thread to end
    running: Any  #: held while the thread runs; released when it has ended

    def request_stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # asked twice (close, then garbage collection)
            self.stop.release()

    def wait_stopped(self, timeout: float) -> bool:
        """True once the thread has ended (for tests and orderly shut-down)."""
        if self.running.acquire(timeout=timeout):
            self.running.release()
            return True
        return False


def _checkpoint_loop(conn: sqlite3.Connection, checkpointer: _Checkpointer) -> None:
    """The background checkpointer of one :class:`Store` (ends on ``close``).

    ``conn`` is its own connection (opened by the Store, used only here).
    """
    try:
        while not checkpointer.stop.acquire(timeout=CHECKPOINT_SECONDS):
            with contextlib.suppress(sqlite3.Error):  # busy or gone: try again next round
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
        checkpointer.running.release()


@dataclass
class _WriteItem:
    fn: Callable[[sqlite_utils.Database], Any]
    done: Any
    result: Any = None
    error: BaseException | None = None
    finished: bool = False
    #: set by :meth:`Store.run_grouped_write`: the write that can serve many callers, and this caller's part
    many: Callable[[sqlite_utils.Database, list[Any]], list[Any]] | None = None
    arg: Any = None

    @classmethod
    def grouped(cls, many: Callable[[sqlite_utils.Database, list[Any]], list[Any]], arg: Any) -> _WriteItem:
        """The item of one caller of a grouped write (run alone: ``run_alone(many, arg, db)``)."""
        return cls(functools.partial(run_alone, many, arg), native_lock(), many=many, arg=arg)


def run_alone(many: Callable[[sqlite_utils.Database, list[Any]], list[Any]], arg: Any,
              db: sqlite_utils.Database) -> Any:
    """A grouped write for one caller: its result, or its refusal raised."""
    (out,) = many(db, [arg])
    if isinstance(out, Exception):
        raise out
    return out


def _units(batch: list[_WriteItem]) -> list[list[_WriteItem]]:
    """The batch's writers as they will run: those of one grouped write together
    (where the first of them stands), every other writer on its own.

    The writers of one batch are concurrent callers, so any order of them is
    one they could have had; a grouped write serves its callers in their
    order of arrival.
    """
    units: list[list[_WriteItem]] = []
    groups: dict[Any, list[_WriteItem]] = {}
    for item in batch:
        if item.many is None:
            units.append([item])
        elif item.many in groups:
            groups[item.many].append(item)
        else:
            groups[item.many] = unit = [item]
            units.append(unit)
    return units


def _run_in_savepoint(db: sqlite_utils.Database, item: _WriteItem) -> None:
    """Run one writer inside a batch: an error rolls back its own writes only."""
    db.conn.execute("SAVEPOINT one")
    try:
        item.result = item.fn(db)
    except Exception as exc:  # noqa: BLE001 - handed to its caller
        db.conn.execute("ROLLBACK TO one")
        item.error = exc
    db.conn.execute("RELEASE one")


def _run_group(db: sqlite_utils.Database, unit: list[_WriteItem]) -> None:
    """Run the writers of one grouped write by one call; if it fails, each alone."""
    many = unit[0].many
    assert many is not None
    db.conn.execute("SAVEPOINT grouped")
    try:
        outs = many(db, [item.arg for item in unit])
        if len(outs) != len(unit):
            raise RuntimeError(f"a grouped write returned {len(outs)} answers for {len(unit)} writers")
    except Exception:  # noqa: BLE001 - retried one by one: each writer gets its own answer
        db.conn.execute("ROLLBACK TO grouped")
        db.conn.execute("RELEASE grouped")
        for item in unit:
            _run_in_savepoint(db, item)
        return
    db.conn.execute("RELEASE grouped")
    for item, out in zip(unit, outs, strict=True):
        if isinstance(out, Exception):
            item.error = out
        else:
            item.result = out


#: Rows per multi-row INSERT (well under SQLite's limit of bound variables).
ROWS_PER_INSERT = 64


def insert_returning(db: sqlite_utils.Database, head: str, row: str, values: Sequence[tuple[Any, ...]],
                     returning: str) -> list[tuple[Any, ...]]:
    """Insert ``values`` with multi-row statements (``head`` and one ``row`` of
    placeholders per value); the ``returning`` columns of each new row, in
    the order SQLite returns them, which it does not promise to be ``values``'."""
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(values), ROWS_PER_INSERT):
        chunk = values[start:start + ROWS_PER_INSERT]
        sql = f"{head} {', '.join([row] * len(chunk))} RETURNING {returning}"
        out.extend(tuple(r) for r in db.conn.execute(sql, [v for value in chunk for v in value]))
    return out


#: The stored JSON of an event's ticket: compact, in the contract's key order.
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


#: JSON with sorted keys: the audit chain's canonical text (one encoder, made once).
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def audit_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({"prev": prev_hash, **row}).encode("utf-8")).hexdigest()


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (triggers contain inner semicolons)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
