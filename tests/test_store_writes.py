"""The store's write path: group commit, its leader hand-off, the checkpointer.

Real SQLite files, real threads.  These are the guarantees the queue core
builds on: a writer's change is committed when ``run_write`` returns, a
refusal rolls back only its own writes, concurrent writers share commits, and
the WAL is moved into the database by a thread of its own.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from antre.store import Store


@pytest.fixture
def kv(tmp_path: Path):
    s = Store(tmp_path / "data")
    with s.write() as db:
        db.conn.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
    yield s
    s.close()


def _put(key: str, value: int):
    def fn(db):
        db.conn.execute("INSERT INTO kv (k, v) VALUES (?, ?)", (key, value))
        return key
    return fn


def _together(writers: int, work: Callable[[int], None], timeout: float = 120) -> float:
    """Run ``work(n)`` for each n in range(writers), each in a thread of its
    own, all released at once; returns the seconds until the last one ended."""
    barrier = threading.Barrier(writers)

    def run(n: int) -> None:
        barrier.wait()
        work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return time.monotonic() - start


def _puts(store: Store, count: int, prefix: str = "") -> Callable[[int], None]:
    """Writer ``n`` puts ``count`` keys of its own, one ``run_write`` each."""
    def work(n: int) -> None:
        for i in range(count):
            store.run_write(_put(f"{prefix}{n}-{i}", i))
    return work


def _fresh_rows(store: Store) -> dict[str, int]:
    """What another connection sees (so: what was committed)."""
    conn = sqlite3.connect(store.path)
    try:
        return dict(conn.execute("SELECT k, v FROM kv"))
    finally:
        conn.close()


def test_a_write_is_committed_when_run_write_returns(kv: Store):
    assert kv.run_write(_put("a", 1)) == "a"
    assert _fresh_rows(kv) == {"a": 1}


def test_a_refusal_rolls_back_its_own_writes_only(kv: Store):
    """Concurrent writers share transactions; one failing writer (after it
    already wrote) must not take the others' writes with it, nor leave its own."""
    errors: list[BaseException] = []

    def failing(db):
        db.conn.execute("INSERT INTO kv (k, v) VALUES ('bad', 0)")
        raise ValueError("refused")

    def worker(n: int) -> None:
        for i in range(50):
            if n == 0 and i % 5 == 0:
                with pytest.raises(ValueError):
                    kv.run_write(failing)
                continue
            try:
                kv.run_write(_put(f"{n}-{i}", i))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    _together(8, worker, timeout=60)
    assert not errors
    rows = _fresh_rows(kv)
    assert "bad" not in rows
    assert len(rows) == 8 * 50 - 10


def test_a_constraint_error_reaches_its_writer_and_nobody_else(kv: Store):
    kv.run_write(_put("dup", 1))
    results: dict[int, object] = {}

    def worker(n: int) -> None:
        try:
            results[n] = kv.run_write(_put("dup" if n == 0 else f"ok{n}", n))
        except sqlite3.IntegrityError as exc:
            results[n] = exc

    _together(6, worker, timeout=30)
    assert isinstance(results[0], sqlite3.IntegrityError)
    assert [results[n] for n in range(1, 6)] == [f"ok{n}" for n in range(1, 6)]
    assert _fresh_rows(kv)["dup"] == 1


def test_busy_writers_share_commits_and_nobody_waits_for_the_safety_net(kv: Store):
    """8 writers in a closed loop: commits hold several writes each, and the
    leader hands over at once (a lost hand-off would make writers sit out the
    0.5 s safety timeout: 8 x 100 writes would take minutes, not seconds)."""
    batches: list[int] = []
    original = kv._run_batch

    def counting(batch):
        batches.append(len(batch))
        original(batch)

    kv._run_batch = counting  # type: ignore[method-assign]
    elapsed = _together(8, _puts(kv, 100))
    assert len(_fresh_rows(kv)) == 800
    assert sum(batches) == 800
    assert len(batches) < 400, f"writes were not grouped: {len(batches)} commits for 800 writes"
    assert elapsed < 30, f"a writer waited for the safety net: {elapsed:.1f} s"


def test_a_lone_writer_is_not_held_back(kv: Store):
    """After a busy burst the gather wait fades: a lone writer commits alone."""
    _together(8, _puts(kv, 30, prefix="burst-"), timeout=60)
    assert max(kv._recent_batches) > 2  # the burst was gathered
    for i in range(30):
        kv.run_write(_put(f"solo-{i}", i))
    assert max(kv._recent_batches) == 1


def test_the_checkpointer_moves_the_wal_into_the_database(kv: Store, tmp_path: Path):
    for i in range(200):
        kv.run_write(_put(f"k{i}", i))
    # The database file alone (without its WAL) holds the rows once a
    # checkpoint ran; SQLite's own automatic checkpoint would not have run yet.
    copy = tmp_path / "copy.db"
    deadline = time.monotonic() + 10
    while True:
        shutil.copyfile(kv.path, copy)
        conn = sqlite3.connect(copy)
        try:
            n = conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0]
        except sqlite3.OperationalError:  # not even the table checkpointed yet
            n = 0
        finally:
            conn.close()
        if n == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert n == 200


def test_close_stops_the_checkpointer(tmp_path: Path):
    s = Store(tmp_path / "d")
    s.run_write(lambda db: db.conn.execute("CREATE TABLE t (x)"))
    checkpointer = s._checkpointer
    assert checkpointer is not None and not checkpointer.wait_stopped(0.3)  # it runs
    s.close()
    assert checkpointer.wait_stopped(0), "close returned before the checkpointer had closed its connection"
    assert not (tmp_path / "d" / "antre.db-wal").exists()  # the last connection out removed the WAL


def test_a_forgotten_store_does_not_leave_its_checkpointer_running(tmp_path: Path):
    import gc

    s = Store(tmp_path / "d")
    s.run_write(lambda db: db.conn.execute("CREATE TABLE t (x)"))
    checkpointer = s._checkpointer
    del s
    gc.collect()
    assert checkpointer.wait_stopped(5)


def test_the_leader_wakes_the_next_writer_when_it_steps_down(kv: Store):
    """Writers that queued behind a slow batch are run as soon as it commits,
    not when their 0.5 s safety timeout fires."""
    started = threading.Event()

    def slow(db):
        started.set()
        deadline = time.monotonic() + 5
        while len(kv._pending) < 2 and time.monotonic() < deadline:  # both followers queued behind us
            time.sleep(0.005)
        db.conn.execute("INSERT INTO kv (k, v) VALUES ('slow', 0)")

    leader = threading.Thread(target=kv.run_write, args=(slow,))
    leader.start()
    assert started.wait(5)
    done_at: dict[str, float] = {}

    def follower(key: str) -> None:
        kv.run_write(_put(key, 1))
        done_at[key] = time.monotonic()

    followers = [threading.Thread(target=follower, args=(k,)) for k in ("b", "c")]
    for t in followers:
        t.start()
    leader.join(10)
    leader_done = time.monotonic()
    for t in followers:
        t.join(10)
    assert set(done_at) == {"b", "c"}
    assert max(done_at.values()) - leader_done < 0.25, "the next writer was not woken"


def test_the_writer_that_completes_a_batch_wakes_the_gathering_leader(kv: Store, monkeypatch):
    """The leader waits for busy writers to queue up; the one that makes the
    batch full wakes it at once.  With a gather timeout of 1 s, a leader that
    had to sit it out every time would make 8 x 40 writes (40 batches) take 40 s."""
    import antre.store

    monkeypatch.setattr(antre.store, "GATHER_SECONDS", 1.0)
    kv._recent_batches.extend([8] * 8)  # as after a busy minute: gather 8
    elapsed = _together(8, _puts(kv, 40))
    assert len(_fresh_rows(kv)) == 320
    assert elapsed < 25, "the leader sat out its gather timeout"
    assert kv._gather_want == 0 and not kv._gathered.acquire(blocking=False)  # left unset for the next gather


# --- grouped writes: one call serves the writers of a batch ---------------------


class PutMany:
    """A grouped write (see ``Store.run_grouped_write``): puts each (key, value)
    with one statement; a negative value is refused and writes nothing."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, int]]] = []

    def __call__(self, db, args: list[tuple[str, int]]) -> list[object]:
        self.calls.append(list(args))
        out: list[object] = []
        rows = []
        for key, value in args:
            if value < 0:
                out.append(ValueError(f"{key}: no negative values"))
            else:
                rows.append((key, value))
                out.append(key)
        db.conn.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", rows)
        return out


def _items(*specs):
    """Write items as the group commit holds them: ("many", fn, arg) or ("one", fn)."""
    from antre.blocking import native_lock
    from antre.store import _WriteItem

    items = []
    for spec in specs:
        item = _WriteItem.grouped(spec[1], spec[2]) if spec[0] == "many" else _WriteItem(spec[1], native_lock())
        item.done.acquire()
        items.append(item)
    return items


def test_grouped_writers_of_a_batch_are_served_by_one_call(kv: Store):
    put_many = PutMany()
    items = _items(("many", put_many, ("a", 1)), ("one", _put("x", 9)), ("many", put_many, ("b", -1)),
                   ("many", put_many, ("c", 3)))
    kv._run_batch(items)
    assert put_many.calls == [[("a", 1), ("b", -1), ("c", 3)]]
    assert [i.result for i in items] == ["a", "x", None, "c"]
    assert isinstance(items[2].error, ValueError) and "no negative" in str(items[2].error)
    assert all(i.finished for i in items)
    assert _fresh_rows(kv) == {"a": 1, "x": 9, "c": 3}


def test_a_failing_group_is_rolled_back_and_each_writer_runs_alone(kv: Store):
    """One writer's duplicate key makes the grouped statement fail: nothing of
    the group stays, then each writer runs on its own and only that one fails."""
    kv.run_write(_put("dup", 1))
    put_many = PutMany()
    items = _items(("many", put_many, ("a", 1)), ("many", put_many, ("dup", 2)), ("many", put_many, ("c", 3)))
    kv._run_batch(items)
    assert put_many.calls == [[("a", 1), ("dup", 2), ("c", 3)], [("a", 1)], [("dup", 2)], [("c", 3)]]
    assert items[0].result == "a" and items[2].result == "c"
    assert isinstance(items[1].error, sqlite3.IntegrityError)
    assert _fresh_rows(kv) == {"dup": 1, "a": 1, "c": 3}


def test_a_group_that_answers_for_the_wrong_number_of_writers_is_run_one_by_one(kv: Store):
    def short_answer(db, args):
        db.conn.executemany("INSERT INTO kv (k, v) VALUES (?, ?)", args)
        return [args[0][0]]  # one answer, whatever the count of writers

    items = _items(("many", short_answer, ("a", 1)), ("many", short_answer, ("b", 2)))
    kv._run_batch(items)
    assert [i.result for i in items] == ["a", "b"] and all(i.error is None for i in items)
    assert _fresh_rows(kv) == {"a": 1, "b": 2}


def test_concurrent_grouped_writers_share_calls_and_each_gets_its_own_answer(kv: Store):
    put_many = PutMany()
    answers: dict[str, object] = {}

    def work(n: int) -> None:
        for i in range(60):
            key = f"{n}-{i}"
            value = -1 if (n, i % 20) == (0, 0) else i
            try:
                answers[key] = kv.run_grouped_write(put_many, (key, value))
            except ValueError as exc:
                answers[key] = exc

    _together(8, work)
    refused = {k for k, v in answers.items() if isinstance(v, ValueError)}
    assert refused == {"0-0", "0-20", "0-40"}
    assert all(answers[k] == k for k in answers if k not in refused)
    rows = _fresh_rows(kv)
    assert len(rows) == 8 * 60 - 3 and not refused & set(rows)
    assert max(len(call) for call in put_many.calls) > 1, "no two writers ever shared a call"
    assert sum(len(call) for call in put_many.calls) == 8 * 60


def test_a_batch_keeps_its_savepoint_journal_in_memory(kv: Store):
    """Savepoints keep the pages they change in a sub-journal, which SQLite
    spills to a temporary file (``etilqs_*``, deleted on open) past 64 KiB
    unless the connection's temporary store is in memory: one file made
    and removed per busy batch."""
    import os

    def temporary_files() -> list[str]:
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue
        return [link for link in links if "etilqs_" in link]

    seen: list[list[str]] = []

    def big(db):  # changes about 100 pages that were in the database before the savepoint
        db.conn.execute("UPDATE kv SET v = v + 1 WHERE k LIKE 'big-%'")
        seen.append(temporary_files())
        return "big"

    kv.run_write(lambda db: db.conn.executemany(
        "INSERT INTO kv (k, v) VALUES (?, ?)", [(f"big-{i}-{'x' * 2000}", i) for i in range(200)]))
    items = _items(("one", _put("small", 1)), ("one", big))  # two writers: each in a savepoint
    kv._run_batch(items)
    assert [i.error for i in items] == [None, None]
    assert seen == [[]], f"the savepoint journal went to a temporary file: {seen}"
