"""antre.doctor: every check on real files, with the outside world injected."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import pytest
from click.testing import CliRunner

from antre import doctor
from antre.doctor import CheckResult, CommandOutput, Severity

REPO = Path(__file__).resolve().parents[1]
GIB = 1024**3
Usage = namedtuple("Usage", "total used free")


def by_name(results: Sequence[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def make_db(data_dir: Path, *, wal: bool = True, rows: int = 2000) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "antre.db"
    conn = sqlite3.connect(db)
    if wal:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("CREATE TABLE ticket (id INTEGER PRIMARY KEY, number TEXT, note TEXT)")
    conn.execute("CREATE INDEX ticket_number ON ticket(number)")
    conn.executemany(
        "INSERT INTO ticket (number, note) VALUES (?, ?)",
        [(f"A{i:03d}", "x" * 200) for i in range(rows)],
    )
    conn.commit()
    conn.close()
    return db


# ----------------------------------------------------------------------------- database


def test_healthy_wal_database(tmp_path: Path) -> None:
    make_db(tmp_path)
    # A second connection still holding committed-but-not-checkpointed WAL frames,
    # as a running server does.
    live = sqlite3.connect(tmp_path / "antre.db")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("INSERT INTO ticket (number) VALUES ('B001')")
    live.commit()
    try:
        results = by_name(doctor.check_database(tmp_path))
    finally:
        live.close()
    assert set(results) == {
        "database",
        "database_integrity",
        "database_journal",
        "database_writable",
    }
    assert all(r.ok and r.severity is Severity.OK for r in results.values())


def test_missing_database_and_missing_folder(tmp_path: Path) -> None:
    [missing] = doctor.check_database(tmp_path)
    assert not missing.ok and missing.severity is Severity.ERROR
    assert "antre.db" in missing.message_en and "tidak ada" in missing.message_id
    [no_dir] = doctor.check_database(tmp_path / "nope")
    assert not no_dir.ok and "folder" in no_dir.message_en.lower()


def test_garbage_file_is_reported_unreadable(tmp_path: Path) -> None:
    (tmp_path / "antre.db").write_bytes(b"this is not a database\n" * 500)
    [result] = doctor.check_database(tmp_path)
    assert result.name == "database" and not result.ok
    assert "cannot be read" in result.message_en
    assert "cadangan" in result.hint  # points to the backups


def test_damaged_pages_fail_integrity(tmp_path: Path) -> None:
    db = make_db(tmp_path, wal=False)
    size = db.stat().st_size
    page = 4096
    assert size > 20 * page
    with db.open("r+b") as f:  # scribble over a few b-tree pages, keep the header
        for n in (3, 7, 11):
            f.seek(n * page)
            f.write(b"\xa5" * page)
    results = doctor.check_database(tmp_path)
    failed = [r for r in results if not r.ok]
    assert failed, results
    assert failed[0].name in ("database", "database_integrity")
    assert failed[0].severity is Severity.ERROR


def test_rollback_journal_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    make_db(tmp_path, wal=False)
    journal = by_name(doctor.check_database(tmp_path))["database_journal"]
    assert journal.ok and journal.severity is Severity.WARNING
    assert "delete" in journal.message_en


@pytest.mark.skipif(not hasattr(os, "geteuid") or shutil.which("setpriv") is None, reason="POSIX")
def test_database_of_another_user_is_not_touched() -> None:
    """As an unprivileged user, a root-owned WAL database is reported, not opened."""
    # pytest's tmp_path is private to root: use a folder "nobody" can enter.
    with tempfile.TemporaryDirectory(prefix="antre-doctor-") as tmp:
        data = Path(tmp) / "data"
        make_db(data)
        Path(tmp).chmod(0o755)
        data.chmod(0o755)
        before = sorted(p.name for p in data.iterdir())
        code = (
            "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from antre.doctor import check_database;"
            "print(json.dumps([r.to_dict() for r in check_database(Path(sys.argv[2]))]))"
        )
        cmd = [sys.executable, "-c", code, str(REPO), str(data)]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        else:
            data.chmod(0o555)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        finally:
            data.chmod(0o755)
        assert out.returncode == 0, out.stderr
        [result] = json.loads(out.stdout)
        assert result["name"] == "database_writable" and result["ok"] is False
        assert "chown -R antre:antre" in result["hint"]
        assert sorted(p.name for p in data.iterdir()) == before  # no -wal/-shm left


# --------------------------------------------------------------------------------- disk


@pytest.mark.parametrize(
    ("total", "free", "severity"),
    [
        (32 * GIB, 20 * GIB, Severity.OK),
        (32 * GIB, int(0.9 * GIB), Severity.WARNING),  # under 1 GB
        (200 * GIB, 15 * GIB, Severity.WARNING),  # 7.5 %: under 10 %
        (8 * GIB, 50 * 1024**2, Severity.ERROR),  # 50 MB: nearly full
    ],
)
def test_disk_thresholds(tmp_path: Path, total: int, free: int, severity: Severity) -> None:
    seen: list[Path] = []

    def usage(path: Path) -> Usage:
        seen.append(path)
        return Usage(total, total - free, free)

    result = doctor.check_disk(tmp_path / "not" / "yet", usage)
    assert seen == [tmp_path]  # measured on the nearest existing folder
    assert result.severity is severity
    assert result.ok is (severity is not Severity.ERROR)
    assert f"{free / GIB:.1f} GB" in result.message_en


def test_disk_real_machine(tmp_path: Path) -> None:
    result = doctor.check_disk(tmp_path)
    assert result.name == "disk" and "GB" in result.message_id


# -------------------------------------------------------------------------------- clock


def fake_runner(answers: dict[str, CommandOutput | None]):
    calls: list[list[str]] = []

    def run(cmd: Sequence[str]) -> CommandOutput | None:
        calls.append(list(cmd))
        key = " ".join(cmd)
        for prefix, answer in answers.items():
            if key.startswith(prefix):
                return answer
        return None

    run.calls = calls  # type: ignore[attr-defined]
    return run


NTP_YES = {"timedatectl show -p NTPSynchronized": CommandOutput(0, "yes\n", "")}


def test_clock_sane_year_same_zone_ntp_synced() -> None:
    run = fake_runner(NTP_YES)
    results = by_name(
        doctor.check_clock(
            "Asia/Jakarta",
            now=datetime(2026, 11, 22, 17, 30, tzinfo=UTC),
            system_tz="Asia/Jakarta",
            run=run,
        )
    )
    assert all(r.severity is Severity.OK for r in results.values()), results
    # 17:30 UTC is already the next day in Jakarta.
    assert "2026-11-23 00:30" in results["clock"].message_en


def test_clock_wrong_year_fails() -> None:
    result = by_name(
        doctor.check_clock(now=datetime(1970, 1, 1, 0, 5, tzinfo=UTC), system_tz="Asia/Jakarta", run=fake_runner({}))
    )["clock"]
    assert not result.ok and result.severity is Severity.ERROR
    assert "1970-01-01" in result.message_en and "timedatectl" in result.hint


def test_clock_zone_mismatch_warns_and_unknown_zone_fails() -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    mismatch = by_name(doctor.check_clock(now=now, system_tz="Etc/UTC", run=fake_runner(NTP_YES)))
    tz = mismatch["clock_timezone_system"]
    assert tz.ok and tz.severity is Severity.WARNING
    assert "set-timezone Asia/Jakarta" in tz.hint
    makassar = by_name(doctor.check_clock("Asia/Makassar", now=now, system_tz="Asia/Makassar", run=fake_runner({})))
    assert makassar["clock_timezone_system"].severity is Severity.OK
    assert "11:00" in makassar["clock"].message_en  # WITA is UTC+8
    bad = by_name(doctor.check_clock("Asia/Bandung", now=now, system_tz="Asia/Jakarta", run=fake_runner({})))
    assert not bad["clock_timezone"].ok


def test_ntp_states_and_missing_timedatectl() -> None:
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    no = fake_runner({"timedatectl show -p NTPSynchronized": CommandOutput(0, "no\n", "")})
    ntp = by_name(doctor.check_clock(now=now, system_tz="Asia/Jakarta", run=no))["clock_ntp"]
    assert ntp.ok and ntp.severity is Severity.WARNING and "timesyncd" in ntp.hint
    missing = fake_runner({})
    ntp = by_name(doctor.check_clock(now=now, system_tz="Asia/Jakarta", run=missing))["clock_ntp"]
    assert ntp.ok and ntp.severity is Severity.INFO
    # timedatectl present but without systemd as init (containers): not a failure either.
    broken = fake_runner({"timedatectl": CommandOutput(1, "", "System has not been booted with systemd")})
    results = doctor.check_clock(now=now, run=broken)
    assert all(r.ok for r in results)


def test_system_timezone_falls_back_to_etc(tmp_path: Path) -> None:
    (tmp_path / "zoneinfo" / "Asia").mkdir(parents=True)
    (tmp_path / "zoneinfo" / "Asia" / "Jayapura").write_bytes(b"")
    os.symlink(tmp_path / "zoneinfo" / "Asia" / "Jayapura", tmp_path / "localtime")
    assert doctor.system_timezone(fake_runner({}), etc=tmp_path) == "Asia/Jayapura"
    (tmp_path / "localtime").unlink()
    (tmp_path / "timezone").write_text("Asia/Makassar\n")
    assert doctor.system_timezone(fake_runner({}), etc=tmp_path) == "Asia/Makassar"
    (tmp_path / "timezone").unlink()
    assert doctor.system_timezone(fake_runner({}), etc=tmp_path) is None


# -------------------------------------------------------------------------------- audio

VOICES = (
    "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
    " 5  id              --/M      Indonesian         poz/id\n"
)
APLAY_TWO_CARDS = (
    "**** List of PLAYBACK Hardware Devices ****\n"
    "card 0: Headphones [bcm2835 Headphones], device 0: bcm2835 Headphones [bcm2835 Headphones]\n"
    "  Subdevices: 8/8\n"
    "card 1: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM i2s-hifi-0 [MAI PCM i2s-hifi-0]\n"
)


def lib_found(name: str) -> str | None:
    return "libespeak-ng.so.1"


def test_audio_speech_and_two_cards() -> None:
    run = fake_runner({"espeak-ng": CommandOutput(0, VOICES, ""), "aplay -l": CommandOutput(0, APLAY_TWO_CARDS, "")})
    results = by_name(doctor.check_audio(run, lib_found))
    assert results["speech"].severity is Severity.OK
    assert results["audio_output"].severity is Severity.OK
    assert "Headphones" in results["audio_output"].message_en


def test_audio_without_sound_card_is_a_clear_warning() -> None:
    run = fake_runner(
        {
            "espeak-ng": CommandOutput(0, VOICES, ""),
            "aplay -l": CommandOutput(1, "", "aplay: device_list:274: no soundcards found...\n"),
        }
    )
    out = by_name(doctor.check_audio(run, lib_found))["audio_output"]
    assert out.ok and out.severity is Severity.WARNING
    assert "no sound card" in out.message_en and "tidak ada kartu suara" in out.message_id.lower()


def test_audio_missing_espeak_or_voice_fails() -> None:
    run = fake_runner({"aplay -l": CommandOutput(0, APLAY_TWO_CARDS, "")})
    speech = by_name(doctor.check_audio(run, lib_found))["speech"]
    assert not speech.ok and "apt-get install espeak-ng" in speech.hint
    run = fake_runner({"espeak-ng": CommandOutput(0, VOICES, ""), "aplay -l": CommandOutput(0, "", "")})
    speech = by_name(doctor.check_audio(run, lambda name: None))["speech"]
    assert not speech.ok and "libespeak-ng1" in speech.message_en
    english_only = VOICES.splitlines()[0] + "\n 5  en  --/M  English  gmw/en\n"
    run = fake_runner({"espeak-ng": CommandOutput(0, english_only, "")})
    results = by_name(doctor.check_audio(run, lib_found))
    assert not results["speech"].ok and "Indonesian" in results["speech"].message_en
    assert results["audio_output"].severity is Severity.WARNING  # aplay missing


# ------------------------------------------------------------------------------ printer


class FakePrinter:
    def __init__(self, status: object) -> None:
        self._status = status
        self.closed = False

    def status(self) -> object:
        return self._status

    def close(self) -> None:
        self.closed = True


class EnumStatus(str, Enum):  # noqa: UP042 - str() of this is "EnumStatus.PAPER_LOW"
    PAPER_LOW = "paper_low"


@pytest.mark.parametrize(
    ("status", "severity"),
    [
        ("ok", Severity.OK),
        ("paper_low", Severity.WARNING),
        (EnumStatus.PAPER_LOW, Severity.WARNING),
        ("paper_out", Severity.ERROR),
        ("offline", Severity.ERROR),
        ("unknown", Severity.WARNING),
    ],
)
def test_printer_status_mapping(status: object, severity: Severity) -> None:
    printers: list[FakePrinter] = []
    seen: list[tuple[str, float]] = []

    def opener(uri: str, timeout: float) -> FakePrinter:
        seen.append((uri, timeout))
        printers.append(FakePrinter(status))
        return printers[-1]

    result = doctor.check_printer("tcp://192.0.2.1:9100", opener=opener)
    assert result.severity is severity and result.ok is (severity is not Severity.ERROR)
    assert seen == [("tcp://192.0.2.1:9100", 3.0)]
    assert printers[0].closed


def test_no_printer_configured_is_not_a_failure() -> None:
    result = doctor.check_printer(None)
    assert result.ok and result.severity is Severity.INFO
    assert "--printer" in result.hint


def test_printer_driver_error_and_hang() -> None:
    def refuses(uri: str, timeout: float) -> FakePrinter:
        raise ConnectionRefusedError(111, "Connection refused")

    result = doctor.check_printer("tcp://127.0.0.1:1", opener=refuses)
    assert not result.ok and "Connection refused" in result.message_en

    def hangs(uri: str, timeout: float) -> FakePrinter:
        time.sleep(5)
        return FakePrinter("ok")

    start = time.monotonic()
    result = doctor.check_printer("usb:04b8:0e15", opener=hangs, hard_timeout=0.3)
    assert time.monotonic() - start < 2
    assert not result.ok and "did not answer" in result.message_en
    # A USB printer is held by the running server: the hint says so; not for LAN ones.
    assert "systemctl stop antre" in result.hint
    offline = doctor.check_printer("usb:0416:5011", opener=lambda u, t: FakePrinter("offline"))
    assert "systemctl stop antre" in offline.hint
    lan = doctor.check_printer("tcp://192.0.2.1:9100", opener=lambda u, t: FakePrinter("offline"))
    assert "systemctl stop antre" not in lan.hint


def test_printing_package_missing_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "printing", None)  # import printing -> ImportError
    result = doctor.check_printer("file:/tmp/tickets")
    assert not result.ok and result.severity is Severity.ERROR
    assert "printing module cannot be loaded" in result.message_en


# The real printing package (top-level ``printing``), as the server uses it.


def test_real_file_printer_is_ready(tmp_path: Path) -> None:
    out = tmp_path / "tickets"
    out.mkdir()
    result = doctor.check_printer(f"file:{out}")
    assert result.ok and result.severity is Severity.OK, result


def test_real_unreachable_tcp_printer_fails_fast() -> None:
    start = time.monotonic()
    result = doctor.check_printer("tcp://127.0.0.1:1")
    assert time.monotonic() - start < 5
    assert not result.ok and result.severity is Severity.ERROR, result
    assert "cannot be reached" in result.message_en or "offline" in result.message_en


# -------------------------------------------------------------------------------- whole


def test_run_checks_order_and_injection(tmp_path: Path) -> None:
    make_db(tmp_path)
    run = fake_runner(
        {
            "timedatectl show -p NTPSynchronized": CommandOutput(0, "yes\n", ""),
            "espeak-ng": CommandOutput(0, VOICES, ""),
            "aplay -l": CommandOutput(0, APLAY_TWO_CARDS, ""),
        }
    )
    results = doctor.run_checks(
        tmp_path,
        "virtual",
        now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        system_tz="Asia/Jakarta",
        disk_usage=lambda p: Usage(64 * GIB, 10 * GIB, 54 * GIB),
        run=run,
        find_library=lib_found,
        printer_opener=lambda uri, timeout: FakePrinter("ok"),
    )
    assert [r.name for r in results] == [
        "database",
        "database_integrity",
        "database_journal",
        "database_writable",
        "disk",
        "clock",
        "clock_timezone_system",
        "clock_ntp",
        "speech",
        "audio_output",
        "printer",
    ]
    assert all(r.severity is Severity.OK for r in results), [r for r in results if not r.ok]
    report = doctor.format_report(results)
    assert "Semua baik / All good." in report


def test_report_lists_failures_with_hints() -> None:
    results = [
        CheckResult("disk", True, Severity.WARNING, "Sisa sedikit.", "Little left.", "Hapus / Delete"),
        CheckResult("printer", False, Severity.ERROR, "Kertas habis.", "Out of paper.", "Isi / Load"),
    ]
    report = doctor.format_report(results)
    lines = report.splitlines()
    assert lines[0].startswith("[") and "disk: Sisa sedikit." in lines[0]
    assert "Little left." in lines[1] and "-> Hapus / Delete" in lines[2]
    assert report.index("Kertas habis.") < report.index("Out of paper.")  # Indonesian first
    assert lines[-1] == "Ada masalah / Problems found: printer"


def test_cli_json_without_database_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(doctor.doctor_command, ["--data-dir", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["ok"] is False
    checks = {c["name"]: c for c in payload["checks"]}
    assert checks["database"]["ok"] is False and checks["database"]["severity"] == "error"
    assert checks["printer"]["severity"] == "info"  # no printer: not a failure


def test_cli_with_and_without_printer(tmp_path: Path) -> None:
    """On this machine (espeak-ng installed, as ./antre.sh test ensures)."""
    data = tmp_path / "data"
    make_db(data)
    tickets = tmp_path / "tickets"
    tickets.mkdir()
    runner = CliRunner()
    without = runner.invoke(doctor.doctor_command, ["--data-dir", str(data)], env={"ANTRE_PRINTER": ""})
    assert without.exit_code == 0, without.output
    assert "Tidak ada printer tiket" in without.output
    with_file = runner.invoke(doctor.doctor_command, ["--data-dir", str(data), "--printer", f"file:{tickets}"])
    assert with_file.exit_code == 0, with_file.output
    unreachable = runner.invoke(
        doctor.doctor_command, ["--data-dir", str(data), "--printer", "tcp://127.0.0.1:1", "--json"]
    )
    assert unreachable.exit_code == 1, unreachable.output
    checks = {c["name"]: c for c in json.loads(unreachable.output)["checks"]}
    assert checks["printer"]["ok"] is False
    assert all(c["ok"] for name, c in checks.items() if name != "printer")
