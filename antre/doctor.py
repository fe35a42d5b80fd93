"""``doctor``: checks the machine Antre runs on and says what is wrong in plain words.

Each check returns :class:`CheckResult` objects with an Indonesian message first and
an English one second, and a hint saying what to do.  The checks:

* **database**: ``DATA_DIR/antre.db`` exists and opens, ``PRAGMA integrity_check``
  passes, the journal mode is WAL, and the file and its folder are writable;
* **disk**: free space on the data folder's disk (warning below 1 GB or 10 %);
* **clock**: the year is sane, the MPP's time zone is known and matches the
  system's, and NTP has synchronized the clock (when ``timedatectl`` can tell);
* **audio**: espeak-ng (speech) is installed with its Indonesian voice and
  ``aplay -l`` finds a sound card;
* **printer**: the ticket printer answers a status query (through the top-level
  ``printing`` package, imported only when a printer is checked).

Everything that touches the outside world (clock, disk usage, commands, the printer
opener) can be injected, so each rule is tested without the hardware.

``doctor_command`` is the click command behind ``python server.py doctor``; it
exits with status 1 when any check failed.
"""

from __future__ import annotations

import ctypes.util
import getpass
import json
import os
import queue
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

DB_NAME = "antre.db"
DEFAULT_TIMEZONE = "Asia/Jakarta"
#: Antre was built in 2026: a clock before this year has certainly not been set.
MIN_SANE_YEAR = 2025
MAX_SANE_YEAR = 2100
GIB = 1024**3
DISK_WARN_FREE_BYTES = 1 * GIB
DISK_WARN_FREE_RATIO = 0.10
DISK_ERROR_FREE_BYTES = 100 * 1024**2
#: Hard limit for the whole printer check, whatever the driver does.
PRINTER_HARD_TIMEOUT_S = 10.0


class Severity(StrEnum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class CheckResult:
    """One finding.  ``ok`` is False only for errors: warnings do not fail doctor."""

    name: str
    ok: bool
    severity: Severity
    message_id: str
    message_en: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def _result(name: str, severity: Severity, message_id: str, message_en: str, hint: str = "") -> CheckResult:
    return CheckResult(
        name=name,
        ok=severity is not Severity.ERROR,
        severity=severity,
        message_id=message_id,
        message_en=message_en,
        hint=hint,
    )


class CommandOutput(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


#: Runs a command; returns None when the program is not installed.
Runner = Callable[[Sequence[str]], CommandOutput | None]


class DiskUsage(Protocol):
    total: int
    used: int
    free: int


def run_command(cmd: Sequence[str], timeout: float = 5.0) -> CommandOutput | None:
    """Run ``cmd`` and capture its output; None when the program does not exist."""
    if shutil.which(cmd[0]) is None:
        return None
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CommandOutput(returncode=-1, stdout="", stderr=str(exc))
    return CommandOutput(proc.returncode, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------- database


def check_database(data_dir: Path) -> list[CheckResult]:
    """The SQLite database: present, intact, in WAL mode, writable."""
    db = data_dir / DB_NAME
    if not data_dir.is_dir():
        return [
            _result(
                "database",
                Severity.ERROR,
                f"Folder data {data_dir} tidak ada.",
                f"The data folder {data_dir} does not exist.",
                "Periksa --data-dir, atau jalankan ulang install.sh. / Check --data-dir, or run install.sh again.",
            )
        ]
    if not db.is_file():
        return [
            _result(
                "database",
                Severity.ERROR,
                f"Basis data {db} tidak ada.",
                f"The database {db} does not exist.",
                "Jalankan server sekali (sudo systemctl start antre); ia membuat basis "
                "data sendiri. / Start the server once (sudo systemctl start antre); "
                "it creates the database itself.",
            )
        ]
    writable = os.access(db, os.W_OK) and os.access(data_dir, os.W_OK)
    if not writable:
        # Opening it anyway would either fail (a WAL database needs its -shm file)
        # or leave -wal/-shm files that the server's user cannot open.
        user = _user_name()
        return [
            _result(
                "database_writable",
                Severity.ERROR,
                f"Basis data {db} atau foldernya tidak dapat ditulis oleh pengguna "
                f"'{user}', jadi tidak bisa diperiksa.",
                f"The database {db} or its folder is not writable by the user '{user}', so it cannot be checked.",
                f"Jalankan doctor sebagai pengguna antre: sudo antre doctor. Bila server "
                f"juga gagal: sudo chown -R antre:antre {data_dir} / Run doctor as the "
                f"antre user: sudo antre doctor. If the server fails too: sudo chown -R "
                f"antre:antre {data_dir}",
            )
        ]
    results: list[CheckResult] = []
    try:
        conn = sqlite3.connect(db, timeout=5.0)
    except sqlite3.Error as exc:
        return [_db_unreadable(db, exc)]
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    except sqlite3.Error as exc:
        return [_db_unreadable(db, exc)]
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    results.append(_result("database", Severity.OK, f"Basis data {db} terbuka.", f"The database {db} opens."))
    if problems:
        shown = "; ".join(problems[:3])
        results.append(
            _result(
                "database_integrity",
                Severity.ERROR,
                f"Basis data rusak: {shown}",
                f"The database is damaged: {shown}",
                _RESTORE_HINT,
            )
        )
    else:
        results.append(
            _result(
                "database_integrity",
                Severity.OK,
                "Pemeriksaan keutuhan basis data: baik.",
                "Database integrity check: ok.",
            )
        )
    if mode == "wal":
        results.append(_result("database_journal", Severity.OK, "Mode jurnal WAL aktif.", "Journal mode is WAL."))
    else:
        results.append(
            _result(
                "database_journal",
                Severity.WARNING,
                f"Mode jurnal basis data '{mode}', bukan WAL.",
                f"The database journal mode is '{mode}', not WAL.",
                "Server Antre memasang WAL saat mulai; jalankan server sekali. / The "
                "Antre server sets WAL when it starts; start the server once.",
            )
        )
    results.append(
        _result(
            "database_writable",
            Severity.OK,
            "Basis data dapat ditulis.",
            "The database is writable.",
        )
    )
    return results


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid
        return "?"


_RESTORE_HINT = (
    "Hentikan server dan pulihkan cadangan terakhir dari folder backups di folder data "
    "(lihat README, 'Memulihkan cadangan'). / Stop the server and restore the latest "
    "backup from the backups folder in the data folder (see the README, 'Restoring a "
    "backup')."
)


def _db_unreadable(db: Path, exc: Exception) -> CheckResult:
    return _result(
        "database",
        Severity.ERROR,
        f"Basis data {db} tidak bisa dibaca ({exc}).",
        f"The database {db} cannot be read ({exc}).",
        _RESTORE_HINT,
    )


# ------------------------------------------------------------------------------- disk


def check_disk(data_dir: Path, disk_usage: Callable[[Path], DiskUsage] = shutil.disk_usage) -> CheckResult:
    """Free space on the disk that holds the data folder."""
    probe = data_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = disk_usage(probe)
    except OSError as exc:
        return _result(
            "disk",
            Severity.WARNING,
            f"Ruang disk tidak bisa diperiksa ({exc}).",
            f"Disk space could not be checked ({exc}).",
        )
    free_gb = usage.free / GIB
    ratio = usage.free / usage.total if usage.total else 0.0
    pct = ratio * 100
    what_id = f"Sisa ruang disk {free_gb:.1f} GB ({pct:.0f}%)."
    what_en = f"Free disk space {free_gb:.1f} GB ({pct:.0f}%)."
    hint = (
        "Hapus berkas yang tidak perlu, atau simpan cadangan lama di flashdisk; "
        "kartu SD yang penuh menghentikan antrean. / Delete files you do not need, or "
        "move old backups to a USB stick; a full SD card stops the queue."
    )
    if usage.free < DISK_ERROR_FREE_BYTES:
        return _result(
            "disk",
            Severity.ERROR,
            what_id + " Hampir penuh: nomor antrean bisa gagal disimpan.",
            what_en + " Nearly full: tickets may fail to be saved.",
            hint,
        )
    if usage.free < DISK_WARN_FREE_BYTES or ratio < DISK_WARN_FREE_RATIO:
        return _result(
            "disk",
            Severity.WARNING,
            what_id + " Ruang disk menipis.",
            what_en + " Disk space is running low.",
            hint,
        )
    return _result("disk", Severity.OK, what_id, what_en)


# ------------------------------------------------------------------------------ clock


def system_timezone(run: Runner = run_command, etc: Path = Path("/etc")) -> str | None:
    """The machine's time zone name, or None when it cannot be told."""
    out = run(["timedatectl", "show", "-p", "Timezone", "--value"])
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip()
    localtime = etc / "localtime"
    try:
        target = os.readlink(localtime)
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    try:
        name = (etc / "timezone").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name or None


def check_clock(
    timezone: str = DEFAULT_TIMEZONE,
    *,
    now: datetime | None = None,
    system_tz: str | None = None,
    run: Runner = run_command,
) -> list[CheckResult]:
    """Year sanity, MPP time zone vs the system's, NTP synchronization."""
    results: list[CheckResult] = []
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        results.append(
            _result(
                "clock_timezone",
                Severity.ERROR,
                f"Zona waktu MPP '{timezone}' tidak dikenal.",
                f"The MPP time zone '{timezone}' is unknown.",
                "Gunakan Asia/Jakarta (WIB), Asia/Makassar (WITA) atau Asia/Jayapura "
                "(WIT). / Use Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura "
                "(WIT).",
            )
        )
        zone = ZoneInfo("UTC")
    current = now if now is not None else datetime.now(tz=zone)
    if current.tzinfo is None:
        current = current.replace(tzinfo=zone)
    local = current.astimezone(zone)
    stamp = local.strftime("%Y-%m-%d %H:%M")
    if not MIN_SANE_YEAR <= local.year <= MAX_SANE_YEAR:
        results.append(
            _result(
                "clock",
                Severity.ERROR,
                f"Jam komputer salah: {stamp}. Nomor harian dan laporan akan kacau.",
                f"The computer clock is wrong: {stamp}. Daily numbering and reports will be wrong.",
                "Setel jam: sudo date -s 'YYYY-MM-DD HH:MM' lalu pastikan NTP aktif "
                "(sudo timedatectl set-ntp true). / Set the clock: sudo date -s "
                "'YYYY-MM-DD HH:MM', then make sure NTP is on (sudo timedatectl set-ntp "
                "true).",
            )
        )
    else:
        results.append(
            _result(
                "clock",
                Severity.OK,
                f"Jam sekarang {stamp} ({timezone}).",
                f"The time is {stamp} ({timezone}).",
            )
        )
    sys_tz = system_tz if system_tz is not None else system_timezone(run)
    if sys_tz is None:
        results.append(
            _result(
                "clock_timezone_system",
                Severity.INFO,
                "Zona waktu sistem tidak diketahui; Antre tetap memakai zona waktu MPP.",
                "The system time zone is unknown; Antre uses the MPP time zone anyway.",
            )
        )
    elif sys_tz != timezone:
        results.append(
            _result(
                "clock_timezone_system",
                Severity.WARNING,
                f"Zona waktu sistem {sys_tz} berbeda dengan zona waktu MPP {timezone}. "
                "Antre memakai zona MPP, tetapi jam di log sistem akan berbeda.",
                f"The system time zone {sys_tz} differs from the MPP time zone "
                f"{timezone}. Antre uses the MPP zone, but system logs will show other "
                "times.",
                f"sudo timedatectl set-timezone {timezone}",
            )
        )
    else:
        results.append(
            _result(
                "clock_timezone_system",
                Severity.OK,
                f"Zona waktu sistem {sys_tz} sama dengan zona MPP.",
                f"The system time zone {sys_tz} matches the MPP zone.",
            )
        )
    results.append(_check_ntp(run))
    return results


def _check_ntp(run: Runner) -> CheckResult:
    out = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if out is None or out.returncode != 0 or out.stdout.strip() not in ("yes", "no"):
        return _result(
            "clock_ntp",
            Severity.INFO,
            "Sinkronisasi jam (NTP) tidak bisa diperiksa di mesin ini.",
            "Clock synchronization (NTP) cannot be checked on this machine.",
            "Pastikan jam benar sebelum layanan dibuka. / Make sure the clock is right before the services open.",
        )
    if out.stdout.strip() == "yes":
        return _result("clock_ntp", Severity.OK, "Jam tersinkron dengan NTP.", "The clock is NTP-synchronized.")
    return _result(
        "clock_ntp",
        Severity.WARNING,
        "Jam belum tersinkron dengan NTP. Raspberry Pi tanpa baterai RTC kehilangan jam saat listrik padam.",
        "The clock is not NTP-synchronized. A Raspberry Pi without an RTC battery loses the time on a power cut.",
        "Tanpa internet: isi NTP= di /etc/systemd/timesyncd.conf dengan alamat router "
        "atau server NTP gedung, atau pasang baterai RTC (Pi 5). / Without internet: set "
        "NTP= in /etc/systemd/timesyncd.conf to the router or the building's NTP server, "
        "or fit an RTC battery (Pi 5).",
    )


# ------------------------------------------------------------------------------ audio


def check_audio(
    run: Runner = run_command,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> list[CheckResult]:
    """Speech synthesis (espeak-ng, Indonesian voice) and a sound output device."""
    results: list[CheckResult] = []
    voices = run(["espeak-ng", "--voices=id"])
    library = find_library("espeak-ng")
    if voices is None or library is None:
        missing = "espeak-ng" if voices is None else "libespeak-ng1"
        results.append(
            _result(
                "speech",
                Severity.ERROR,
                f"Mesin suara {missing} tidak terpasang: panggilan tidak akan bersuara.",
                f"The speech engine {missing} is not installed: calls will be silent.",
                "sudo apt-get install espeak-ng libespeak-ng1",
            )
        )
    elif voices.returncode != 0 or not any(line.split()[1:2] == ["id"] for line in voices.stdout.splitlines()[1:]):
        results.append(
            _result(
                "speech",
                Severity.ERROR,
                "espeak-ng terpasang tetapi suara bahasa Indonesia ('id') tidak ada.",
                "espeak-ng is installed but its Indonesian voice ('id') is missing.",
                "sudo apt-get install --reinstall espeak-ng-data",
            )
        )
    else:
        results.append(
            _result(
                "speech",
                Severity.OK,
                "Mesin suara espeak-ng dengan suara bahasa Indonesia tersedia.",
                "The espeak-ng speech engine with its Indonesian voice is available.",
            )
        )
    cards = run(["aplay", "-l"])
    if cards is None:
        results.append(
            _result(
                "audio_output",
                Severity.WARNING,
                "Program aplay (alsa-utils) tidak ada; keluaran suara tidak bisa diperiksa.",
                "aplay (alsa-utils) is missing; the sound output cannot be checked.",
                "sudo apt-get install alsa-utils",
            )
        )
        return results
    found = [line for line in cards.stdout.splitlines() if line.startswith("card ")]
    if not found:
        results.append(
            _result(
                "audio_output",
                Severity.WARNING,
                "Tidak ada kartu suara di komputer ini: server tidak bisa memutar "
                "panggilan sendiri. Layar ruang tunggu (browser) tetap bisa bersuara.",
                "This computer has no sound card: the server cannot play calls itself. "
                "Waiting-room displays (browsers) can still play them.",
                "Pasang speaker ke jack audio/HDMI atau kartu suara USB, lalu periksa "
                "dengan 'aplay -l'. / Plug speakers into the audio jack or HDMI, or a "
                "USB sound card, then check with 'aplay -l'.",
            )
        )
    else:
        names = "; ".join(line.split(":", 1)[1].strip() for line in found[:3])
        results.append(
            _result(
                "audio_output",
                Severity.OK,
                f"Keluaran suara ditemukan: {names}.",
                f"Sound output found: {names}.",
            )
        )
    return results


# ---------------------------------------------------------------------------- printer


class _Printer(Protocol):
    def status(self) -> Any: ...

    def close(self) -> None: ...


PrinterOpener = Callable[[str, float], _Printer]


def _default_opener(uri: str, timeout: float) -> _Printer:
    import printing  # imported lazily: the server runs without it

    open_printer = getattr(printing, "open_printer", None)
    if open_printer is None:
        raise ImportError(f"{printing.__name__} has no open_printer (incomplete install)")
    return open_printer(uri, timeout=timeout)


_PRINTER_HINT = (
    "Periksa kabel, daya dan kertas printer, lalu alamatnya (--printer). / Check the "
    "printer's cable, power and paper, then its address (--printer)."
)


def _printer_hint(uri: str) -> str:
    if uri.startswith(("usb:", "serial:")):
        # A USB printer can be claimed by one process only: the running server's.
        return (
            _PRINTER_HINT + " Server Antre yang sedang berjalan memegang printer ini: "
            "hentikan dulu (sudo systemctl stop antre), jalankan doctor, lalu nyalakan lagi "
            "(sudo systemctl start antre). / The running Antre server holds this printer: "
            "stop it first (sudo systemctl stop antre), run doctor, then start it again "
            "(sudo systemctl start antre)."
        )
    return _PRINTER_HINT


def check_printer(
    printer_uri: str | None,
    *,
    opener: PrinterOpener | None = None,
    timeout: float = 3.0,
    hard_timeout: float = PRINTER_HARD_TIMEOUT_S,
) -> CheckResult:
    """Ask the ticket printer for its status."""
    if not printer_uri:
        return _result(
            "printer",
            Severity.INFO,
            "Tidak ada printer tiket yang diatur: tiket hanya tampil di layar kiosk.",
            "No ticket printer is configured: tickets are only shown on the kiosk screen.",
            "Atur printer dengan --printer (mis. usb:04b8:0e15 atau tcp://192.168.1.50:9100)"
            " atau ANTRE_PRINTER di /etc/antre/antre.env. / Set one with --printer (e.g. "
            "usb:04b8:0e15 or tcp://192.168.1.50:9100) or ANTRE_PRINTER in "
            "/etc/antre/antre.env.",
        )
    open_fn = opener or _default_opener
    answer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)

    def probe() -> None:
        try:
            printer = open_fn(printer_uri, timeout)
        except ImportError as exc:
            answer.put(("import", exc))
            return
        except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
            answer.put(("error", exc))
            return
        try:
            status = printer.status()
            answer.put(("status", str(getattr(status, "value", status))))
        except Exception as exc:  # noqa: BLE001
            answer.put(("error", exc))
        finally:
            try:
                printer.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead printer may fail
                pass

    # A daemon thread: a driver that hangs (libusb with timeout 0) cannot hang doctor.
    threading.Thread(target=probe, name="doctor-printer", daemon=True).start()
    try:
        kind, value = answer.get(timeout=hard_timeout)
    except queue.Empty:
        return _result(
            "printer",
            Severity.ERROR,
            f"Printer {printer_uri} tidak menjawab dalam {hard_timeout:.0f} detik.",
            f"The printer {printer_uri} did not answer within {hard_timeout:.0f} s.",
            _printer_hint(printer_uri),
        )
    if kind == "import":
        return _result(
            "printer",
            Severity.ERROR,
            f"Modul pencetak Antre (printing) tidak bisa dimuat: {value}.",
            f"Antre's printing module cannot be loaded: {value}.",
            "Pasang ulang Antre (install.sh --upgrade). / Reinstall Antre (install.sh --upgrade).",
        )
    if kind == "error":
        return _result(
            "printer",
            Severity.ERROR,
            f"Printer {printer_uri} tidak bisa dihubungi: {value}.",
            f"The printer {printer_uri} cannot be reached: {value}.",
            _printer_hint(printer_uri),
        )
    return _printer_status_result(printer_uri, value)


def _printer_status_result(uri: str, status: str) -> CheckResult:
    if status == "ok":
        return _result("printer", Severity.OK, f"Printer {uri} siap.", f"The printer {uri} is ready.")
    if status == "paper_low":
        return _result(
            "printer",
            Severity.WARNING,
            f"Kertas printer {uri} hampir habis.",
            f"The printer {uri} is low on paper.",
            "Siapkan gulungan kertas baru. / Have a new paper roll ready.",
        )
    if status == "paper_out":
        return _result(
            "printer",
            Severity.ERROR,
            f"Kertas printer {uri} habis.",
            f"The printer {uri} is out of paper.",
            "Pasang gulungan kertas baru dan tutup penutupnya. / Load a new paper roll and close the cover.",
        )
    if status == "offline":
        return _result(
            "printer",
            Severity.ERROR,
            f"Printer {uri} offline: tidak terjangkau (mati, kabel, jaringan), atau "
            "penutupnya terbuka, kertasnya habis, atau ada galat.",
            f"The printer {uri} is offline: not reachable (off, cable, network), or its "
            "cover is open, it is out of paper, or it has an error.",
            _printer_hint(uri),
        )
    return _result(
        "printer",
        Severity.WARNING,
        f"Printer {uri} terhubung tetapi tidak melaporkan statusnya ({status}).",
        f"The printer {uri} is connected but does not report its status ({status}).",
        "Cetak tiket uji dari halaman admin untuk memastikan. / Print a test ticket from the admin page to be sure.",
    )


# -------------------------------------------------------------------------------- all


def run_checks(
    data_dir: Path,
    printer_uri: str | None,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    now: datetime | None = None,
    system_tz: str | None = None,
    disk_usage: Callable[[Path], DiskUsage] = shutil.disk_usage,
    run: Runner = run_command,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
    printer_opener: PrinterOpener | None = None,
    printer_timeout: float = 3.0,
) -> list[CheckResult]:
    """Every check, in the order a person reads them."""
    results = check_database(data_dir)
    results.append(check_disk(data_dir, disk_usage))
    results.extend(check_clock(timezone, now=now, system_tz=system_tz, run=run))
    results.extend(check_audio(run, find_library))
    results.append(check_printer(printer_uri, opener=printer_opener, timeout=printer_timeout))
    return results


_TAGS = {
    Severity.OK: "BAIK/OK",
    Severity.INFO: "INFO",
    Severity.WARNING: "AWAS/WARNING",
    Severity.ERROR: "GAGAL/FAIL",
}
_TAG_WIDTH = max(len(tag) for tag in _TAGS.values())


def format_report(results: Sequence[CheckResult]) -> str:
    lines = []
    for r in results:
        pad = " " * (_TAG_WIDTH + 3)
        lines.append(f"[{_TAGS[r.severity]:^{_TAG_WIDTH}}] {r.name}: {r.message_id}")
        lines.append(f"{pad}{r.message_en}")
        if r.hint and r.severity is not Severity.OK:
            lines.append(f"{pad}-> {r.hint}")
    failed = [r.name for r in results if not r.ok]
    warned = [r.name for r in results if r.severity is Severity.WARNING]
    lines.append("")
    if failed:
        lines.append(f"Ada masalah / Problems found: {', '.join(failed)}")
    elif warned:
        lines.append(f"Berjalan, tetapi perlu dilihat / Working, but look at: {', '.join(warned)}")
    else:
        lines.append("Semua baik / All good.")
    return "\n".join(lines)


@click.command("doctor")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="ANTRE_DATA_DIR",
    default=Path("data"),
    show_default=True,
    help="Data folder holding antre.db.",
)
@click.option(
    "--printer",
    "printer_uri",
    envvar="ANTRE_PRINTER",
    default=None,
    help="Ticket printer URI to test (usb:VID:PID, tcp://HOST:PORT, serial:DEV, cups:Q, file:DIR, virtual).",
)
@click.option(
    "--timezone",
    envvar="ANTRE_TIMEZONE",
    default=DEFAULT_TIMEZONE,
    show_default=True,
    help="The MPP's time zone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor_command(data_dir: Path, printer_uri: str | None, timezone: str, as_json: bool) -> None:
    """Check database, disk, clock, audio and printer; exit 1 when something is wrong."""
    results = run_checks(data_dir, printer_uri or None, timezone=timezone)
    if as_json:
        payload = {"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(results))
    if not all(r.ok for r in results):
        click.get_current_context().exit(1)
