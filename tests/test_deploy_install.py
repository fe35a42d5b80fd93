"""deploy/raspberrypi/install.sh, upgrade.sh and uninstall.sh, run for real.

Every run goes into a throwaway root (``--root``) or is a ``--dry-run``. The
commands that change a running system (apt-get, useradd, systemctl, ...) are
replaced on PATH by recorders, so a test also proves they were never called.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "raspberrypi"
INSTALL = DEPLOY / "install.sh"
UNINSTALL = DEPLOY / "uninstall.sh"
UPGRADE = DEPLOY / "upgrade.sh"

SYSTEM_COMMANDS = [
    "apt-get",
    "systemctl",
    "useradd",
    "groupadd",
    "usermod",
    "userdel",
    "groupdel",
    "udevadm",
    "npm",
    "pip",
    "pip3",
    "raspi-config",
    "timedatectl",
    "chown",
    "setpriv",
    "runuser",
    "sudo",
]


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH with recording stand-ins for the system-changing commands."""
    shims = tmp_path / "shims"
    shims.mkdir()
    calls = tmp_path / "system-calls.log"
    calls.touch()
    for name in SYSTEM_COMMANDS:
        shim = shims / name
        shim.write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\nexit 1\n')
        shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{shims}:{env['PATH']}"
    env.pop("SUDO_USER", None)
    return env, calls


def system_calls(calls: Path) -> list[str]:
    """Recorded calls, without read-only queries."""
    return [line for line in calls.read_text().splitlines() if not line.startswith("timedatectl show")]


def run(script: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every path under root: type, mode and content hash (or link target)."""
    tree: dict[str, tuple[str, int, str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = str(path.relative_to(root))
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            tree[rel] = ("link", mode, os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            tree[rel] = ("dir", mode, "")
        else:
            tree[rel] = ("file", mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return tree


def pi_root(root: Path, *, firmware: bool = True) -> Path:
    """An empty root that looks like Raspberry Pi OS to the installer."""
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n")
    (root / "boot" / "firmware" if firmware else root / "boot").mkdir(parents=True)
    return root


def kv(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().replace("\r", "").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


# ---------------------------------------------------------------------------- dry run

ROLE_ARGS = {
    "server": ["--role", "server", "--printer", "usb:0416:5011"],
    "kiosk": ["--role", "kiosk", "--server-url", "http://10.0.0.2:8080", "--token", "t1"],
    "display": [
        "--role",
        "display",
        "--server-url",
        "http://10.0.0.2:8080",
        "--token",
        "t2",
        "--zone",
        "A",
    ],
}
SERVER_FILES = [
    "/etc/systemd/system/antre.service",
    "/etc/systemd/system/antre-backup.service",
    "/etc/systemd/system/antre-backup.timer",
    "/etc/udev/rules.d/60-antre-printers.rules",
    "/etc/antre/antre.env",
    "/etc/antre/install.conf",
    "/opt/antre/bin/antre-server",
    "/opt/antre/bin/antre-backup",
    "/opt/antre/bin/antre",
]
DEVICE_FILES = [
    "/boot/firmware/antre.conf",
    "/opt/antre/bin/antre-browser",
    "/opt/antre/share/antre/status.html",
    "/home/pi/.config/labwc/autostart",
    "/home/pi/.config/wayfire.ini",
    "/home/pi/.config/autostart/antre-browser.desktop",
    "/etc/antre/install.conf",
]


@pytest.mark.parametrize("role", ["server", "kiosk", "display"])
def test_dry_run_prints_every_step_and_changes_nothing(
    tmp_path: Path, recorder: tuple[dict[str, str], Path], role: str
) -> None:
    env, calls = recorder
    root = pi_root(tmp_path / "root")
    before = snapshot(root)
    out = run(INSTALL, "--dry-run", "--root", str(root), *ROLE_ARGS[role], env=env).stdout
    assert snapshot(root) == before
    assert system_calls(calls) == []
    files = SERVER_FILES if role == "server" else DEVICE_FILES
    for path in files:
        assert f"would write: {path} (" in out, path
    if role == "server":
        assert "would copy: " in out and "-> /opt/antre/app" in out
        assert "would run: systemctl enable antre.service antre-backup.timer" in out
        assert "would run: python3 -m venv /opt/antre/venv" in out
        assert "would run: env -C /opt/antre/app npm ci --omit=dev" in out
        assert "would run: useradd --system --gid antre --home-dir /var/lib/antre" in out
        assert "(mode 0644, from systemd/antre.service.in)" in out
        assert "would create directory: /var/lib/antre (mode 0750, owner antre:antre)" in out
    else:
        assert "would run: raspi-config nonint do_blanking 1" in out
        assert "apt-get install -y --no-install-recommends chromium" in out
    assert "would run: apt-get update" in out


def test_dry_run_on_this_machine_touches_nothing(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    """Without --root: the real paths are only printed."""
    env, calls = recorder
    prefix = tmp_path / "opt-antre"
    data = tmp_path / "data"
    watched = [Path("/etc/antre"), Path("/etc/systemd/system/antre.service"), Path("/usr/local/bin/antre")]
    existed = {p: p.exists() or p.is_symlink() for p in watched}
    out = run(
        INSTALL,
        "--dry-run",
        "--role",
        "server",
        "--prefix",
        str(prefix),
        "--data-dir",
        str(data),
        env=env,
    ).stdout
    assert not prefix.exists() and not data.exists()
    assert {p: p.exists() or p.is_symlink() for p in watched} == existed
    assert system_calls(calls) == []
    assert "ReadWritePaths" not in out  # content is not dumped, paths are
    assert "would write: /etc/systemd/system/antre.service" in out
    assert f"would create directory: {data} (mode 0750" in out
    kiosk = run(INSTALL, "--dry-run", "--role", "kiosk", "--desktop-user", "pi", env=env).stdout
    assert "would write: /boot/" in kiosk
    assert not Path("/home/pi/.config/autostart/antre-browser.desktop").exists()
    assert system_calls(calls) == []


# ------------------------------------------------------------------------ server role


def test_server_into_throwaway_root_twice(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, calls = recorder
    root = tmp_path / "root"
    root.mkdir()
    first = run(INSTALL, "--root", str(root), "--role", "server", env=env).stdout
    assert system_calls(calls) == []
    assert "not run in --root mode: systemctl enable antre.service antre-backup.timer" in first
    assert "not run in --root mode: useradd --system" in first

    unit = (root / "etc/systemd/system/antre.service").read_text()
    for line in [
        "After=network-online.target time-sync.target sound.target redis-server.service",
        "Wants=network-online.target",
        "User=antre",
        "ExecStart=/opt/antre/bin/antre-server",
        "Environment=ANTRE_DATA_DIR=/var/lib/antre HOME=/var/lib/antre PYTHONUNBUFFERED=1",
        "EnvironmentFile=/etc/antre/antre.env",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/antre",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "StandardOutput=journal",
        "WantedBy=multi-user.target",
    ]:
        assert line in unit.splitlines(), line
    assert "\nPrivateDevices=" not in unit  # USB and serial printers, sound cards
    timer = (root / "etc/systemd/system/antre-backup.timer").read_text()
    assert "OnCalendar=*-*-* 02:30:00 Asia/Jakarta" in timer and "Persistent=true" in timer
    backup_unit = (root / "etc/systemd/system/antre-backup.service").read_text()
    assert "ExecStart=/opt/antre/bin/antre-backup --tag nightly" in backup_unit
    assert "ReadWritePaths=/var/lib/antre -/var/lib/antre/backups" in backup_unit
    assert "EnvironmentFile=-/etc/antre/antre.env" in backup_unit  # ANTRE_BACKUP_DAYS
    env_file = kv(root / "etc/antre/antre.env")
    assert env_file["ANTRE_PORT"] == "8080" and env_file["ANTRE_PRINTER"] == ""
    assert env_file["ANTRE_BACKUP_DAYS"] == "14" and env_file["ANTRE_DEMO"] == "0"
    assert stat.S_IMODE((root / "etc/antre/antre.env").stat().st_mode) == 0o640
    rule = (root / "etc/udev/rules.d/60-antre-printers.rules").read_text()
    assert 'GROUP="antre"' in rule and "@" not in rule.replace("# ", "")
    assert os.readlink(root / "usr/local/bin/antre") == "/opt/antre/bin/antre"
    for script in ["antre-server", "antre", "antre-backup"]:
        assert os.access(root / "opt/antre/bin" / script, os.X_OK)
    assert (root / "var/lib/antre/backups").is_dir()
    assert stat.S_IMODE((root / "var/lib/antre").stat().st_mode) == 0o750

    app = root / "opt/antre/app"
    assert (app / "requirements.txt").read_bytes() == (REPO / "requirements.txt").read_bytes()
    assert (app / "antre" / "doctor.py").is_file()
    assert (app / "deploy/raspberrypi/install.sh").is_file()
    for absent in [".git", ".venv", "node_modules", "tests", "data"]:
        assert not (app / absent).exists(), absent
    assert not list(app.rglob("__pycache__"))
    record = kv(root / "etc/antre/install.conf")
    assert record["ROLE"] == "server" and record["DATA_DIR"] == "/var/lib/antre"

    before = snapshot(root)
    second = run(INSTALL, "--root", str(root), "--role", "server", env=env).stdout
    assert snapshot(root) == before
    assert "wrote:" not in second and "copied:" not in second
    assert "unchanged: /etc/systemd/system/antre.service" in second
    assert "unchanged: /opt/antre/app" in second
    # Nothing changed: start (a no-op when running), not restart.
    assert "systemctl start antre.service" in second and "restart" not in second
    assert system_calls(calls) == []


def test_server_options_are_rendered(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = tmp_path / "root"
    root.mkdir()
    run(
        INSTALL,
        "--root",
        str(root),
        "--role=server",
        "--prefix",
        "/srv/antre",
        "--data-dir",
        "/srv/antre-data",
        "--port",
        "9000",
        "--printer",
        "tcp://192.168.1.50:9100",
        "--backup-days",
        "30",
        "--backup-time",
        "01:15",
        "--timezone",
        "Asia/Makassar",
        "--demo",
        "--audio-card",
        "1",
        env=env,
    )
    unit = (root / "etc/systemd/system/antre.service").read_text()
    assert "ExecStart=/srv/antre/bin/antre-server" in unit
    assert "ReadWritePaths=/srv/antre-data" in unit
    timer = (root / "etc/systemd/system/antre-backup.timer").read_text()
    assert "OnCalendar=*-*-* 01:15:00 Asia/Makassar" in timer
    env_file = kv(root / "etc/antre/antre.env")
    assert env_file["ANTRE_PORT"] == "9000"
    assert env_file["ANTRE_PRINTER"] == "tcp://192.168.1.50:9100"
    assert env_file["ANTRE_BACKUP_DAYS"] == "30" and env_file["ANTRE_DEMO"] == "1"
    assert env_file["ANTRE_TIMEZONE"] == "Asia/Makassar"
    assert "defaults.pcm.card 1" in (root / "etc/asound.conf").read_text()
    assert (root / "srv/antre/app/requirements.txt").is_file()
    # A second run without the options keeps every choice.
    before = snapshot(root)
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    assert snapshot(root) == before


def test_edited_settings_are_kept(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = tmp_path / "root"
    root.mkdir()
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    env_path = root / "etc/antre/antre.env"
    text = env_path.read_text().replace("ANTRE_PRINTER=\n", "ANTRE_PRINTER=usb:04b8:0e15\n")
    env_path.write_text(text + "# my note\n")
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    assert env_path.read_text() == text + "# my note\n"
    run(INSTALL, "--root", str(root), "--role", "server", "--port", "8181", env=env)
    values = kv(env_path)
    assert values["ANTRE_PORT"] == "8181" and values["ANTRE_PRINTER"] == "usb:04b8:0e15"
    assert env_path.read_text().endswith("# my note\n")


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "router"],
        [],
        ["--role", "server", "--token", "abc"],
        ["--role", "server", "--port", "70000"],
        ["--role", "server", "--backup-days", "0"],
        ["--role", "server", "--backup-time", "25:00"],
        ["--role", "server", "--timezone", "Asia/Bandung"],
        ["--role", "server", "--prefix", "relative/path"],
        ["--role", "server", "--data-dir", "/var/lib/antre data"],
        ["--role", "kiosk", "--server-url", "ftp://x"],
        ["--role", "kiosk", "--token", "two words"],
        ["--role", "display", "--printer", "usb:0416:5011"],
        ["--role", "server", "--no-such-option"],
    ],
)
def test_bad_options_are_refused(tmp_path: Path, recorder: tuple[dict[str, str], Path], args: list[str]) -> None:
    env, _ = recorder
    root = pi_root(tmp_path / "root")
    before = snapshot(root)
    proc = run(INSTALL, "--root", str(root), *args, env=env, check=False)
    assert proc.returncode != 0
    assert "error" in proc.stderr
    assert snapshot(root) == before


# --------------------------------------------------------------------- kiosk / display


@pytest.mark.parametrize("role", ["kiosk", "display"])
def test_device_into_throwaway_root_twice(tmp_path: Path, recorder: tuple[dict[str, str], Path], role: str) -> None:
    env, calls = recorder
    root = pi_root(tmp_path / "root")
    out = run(INSTALL, "--root", str(root), *ROLE_ARGS[role], env=env).stdout
    assert system_calls(calls) == []
    assert "not run in --root mode: raspi-config nonint do_boot_behaviour B4" in out
    conf = kv(root / "boot/firmware/antre.conf")
    assert conf["SERVER_URL"] == "http://10.0.0.2:8080" and conf["ROLE"] == role
    assert conf["TOKEN"] == ("t1" if role == "kiosk" else "t2")
    assert conf["ZONE"] == ("" if role == "kiosk" else "A")
    assert conf["DAILY_RESTART"] == "04:00"
    launcher = "/opt/antre/bin/antre-browser"
    assert os.access(root / launcher.lstrip("/"), os.X_OK)
    assert (root / "opt/antre/share/antre/status.html").is_file()
    labwc = (root / "home/pi/.config/labwc/autostart").read_text()
    assert f"{launcher} &" in labwc.splitlines()
    wayfire = (root / "home/pi/.config/wayfire.ini").read_text()
    assert f"[autostart]\nantre = {launcher}\n" in wayfire
    assert "[idle]\ndpms_timeout = -1\nscreensaver_timeout = -1\n" in wayfire
    desktop = (root / "home/pi/.config/autostart/antre-browser.desktop").read_text()
    assert f"Exec={launcher}\n" in desktop
    record = kv(root / "etc/antre/install.conf")
    assert record["BOOT_CONF"] == "/boot/firmware/antre.conf" and record["DESKTOP_USER"] == "pi"
    assert not (root / "etc/systemd").exists()  # no server parts on a kiosk

    before = snapshot(root)
    second = run(INSTALL, "--root", str(root), *ROLE_ARGS[role], env=env).stdout
    assert snapshot(root) == before
    assert "wrote:" not in second
    upgrade = run(UPGRADE, "--root", str(root), env=env).stdout
    assert snapshot(root) == before
    assert "upgrade, role " + role in upgrade


def test_boot_partition_fallback_and_hand_edits(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = pi_root(tmp_path / "root", firmware=False)  # before Bookworm: /boot
    run(INSTALL, "--root", str(root), "--role", "display", env=env)
    conf_path = root / "boot/antre.conf"
    assert kv(conf_path)["SERVER_URL"] == ""
    assert not (root / "boot/firmware").exists()
    # Edited on a Windows PC: CRLF line ends, a value filled in by hand.
    text = conf_path.read_text().replace("SERVER_URL=\n", "SERVER_URL=http://10.1.1.1:8080\n")
    text = text.replace("ZONE=\n", "ZONE=Lantai 2\n")
    conf_path.write_bytes(text.replace("\n", "\r\n").encode())
    edited = conf_path.read_bytes()
    run(INSTALL, "--root", str(root), "--role", "display", env=env)
    assert conf_path.read_bytes() == edited  # untouched
    run(INSTALL, "--root", str(root), "--role", "display", "--token", "new-token", env=env)
    values = kv(conf_path)
    assert values["TOKEN"] == "new-token"
    assert values["SERVER_URL"] == "http://10.1.1.1:8080" and values["ZONE"] == "Lantai 2"


def test_existing_desktop_autostart_is_extended_not_replaced(
    tmp_path: Path, recorder: tuple[dict[str, str], Path]
) -> None:
    env, _ = recorder
    root = pi_root(tmp_path / "root")
    cfg = root / "home/pi/.config"
    (cfg / "labwc").mkdir(parents=True)
    (cfg / "labwc/autostart").write_text("/usr/bin/my-tool &\n")
    (cfg / "wayfire.ini").write_text(
        "[core]\nplugins = autostart idle\n\n[autostart]\npanel = wf-panel-pi\n\n[idle]\ndpms_timeout = 600\n"
    )
    for _ in range(2):
        run(INSTALL, "--root", str(root), *ROLE_ARGS["kiosk"], env=env)
        labwc = (cfg / "labwc/autostart").read_text().splitlines()
        assert labwc == ["/usr/bin/my-tool &", "/opt/antre/bin/antre-browser &"]
        wayfire = (cfg / "wayfire.ini").read_text()
        assert "[core]\nplugins = autostart idle\n" in wayfire
        assert "panel = wf-panel-pi" in wayfire
        assert wayfire.count("antre = /opt/antre/bin/antre-browser") == 1
        assert "dpms_timeout = -1" in wayfire and "600" not in wayfire
        assert wayfire.count("[idle]") == 1 and wayfire.count("[autostart]") == 1
    run(UNINSTALL, "--root", str(root), env=env)
    assert (cfg / "labwc/autostart").read_text().splitlines() == ["/usr/bin/my-tool &"]
    assert "antre-browser" not in (cfg / "wayfire.ini").read_text()
    assert "panel = wf-panel-pi" in (cfg / "wayfire.ini").read_text()
    assert not (cfg / "autostart/antre-browser.desktop").exists()


# ---------------------------------------------------------------------- upgrade, removal


def make_wal_db(path: Path, rows: int = 500) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE ticket (id INTEGER PRIMARY KEY, number TEXT)")
    conn.executemany("INSERT INTO ticket (number) VALUES (?)", [(f"A{i:03d}",) for i in range(rows)])
    conn.commit()
    conn.close()


def test_upgrade_backs_up_the_database_first_and_keeps_settings(
    tmp_path: Path, recorder: tuple[dict[str, str], Path]
) -> None:
    env, calls = recorder
    root = tmp_path / "root"
    root.mkdir()
    run(INSTALL, "--root", str(root), "--role", "server", "--printer", "virtual", env=env)
    db = root / "var/lib/antre/antre.db"
    make_wal_db(db)
    db_before = db.read_bytes()
    env_before = (root / "etc/antre/antre.env").read_bytes()
    (root / "opt/antre/app/requirements.txt").write_text("stale\n")  # an older release

    out = run(UPGRADE, "--root", str(root), env=env).stdout
    assert out.index("Backup of the database before the upgrade") < out.index("copied:")
    backups = list((root / "var/lib/antre/backups").glob("antre-*-pre-upgrade.db.gz"))
    assert len(backups) == 1
    assert db.read_bytes() == db_before
    assert (root / "etc/antre/antre.env").read_bytes() == env_before
    assert (root / "opt/antre/app/requirements.txt").read_bytes() == (REPO / "requirements.txt").read_bytes()
    assert "not run in --root mode: systemctl restart antre.service" in out
    assert system_calls(calls) == []
    import gzip

    restored = tmp_path / "restored.db"
    restored.write_bytes(gzip.decompress(backups[0].read_bytes()))
    conn = sqlite3.connect(restored)
    assert conn.execute("SELECT count(*) FROM ticket").fetchone()[0] == 500
    conn.close()


def test_upgrade_stops_when_the_backup_fails(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = tmp_path / "root"
    root.mkdir()
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    (root / "var/lib/antre/antre.db").write_bytes(b"garbage, not a database" * 100)
    (root / "opt/antre/app/requirements.txt").write_text("stale\n")
    proc = run(INSTALL, "--root", str(root), "--upgrade", env=env, check=False)
    assert proc.returncode != 0
    assert "backup failed: nothing was changed" in proc.stderr
    assert (root / "opt/antre/app/requirements.txt").read_text() == "stale\n"


def test_upgrade_needs_an_installation(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    proc = run(UPGRADE, "--root", str(tmp_path), env=env, check=False)
    assert proc.returncode != 0 and "install.conf not found" in proc.stderr


def test_uninstall_keeps_data_and_purge_removes_it(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, calls = recorder
    root = tmp_path / "root"
    root.mkdir()
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    make_wal_db(root / "var/lib/antre/antre.db")
    (root / "var/lib/antre/backups/antre-20260101-023000-nightly.db.gz").write_bytes(b"x")

    dry = run(UNINSTALL, "--root", str(root), "--purge", "--dry-run", env=env).stdout
    assert "would remove: /var/lib/antre" in dry and (root / "var/lib/antre/antre.db").exists()

    out = run(UNINSTALL, "--root", str(root), env=env).stdout
    assert "not run in --root mode: systemctl disable --now antre.service" in out
    for gone in [
        "etc/systemd/system/antre.service",
        "etc/systemd/system/antre-backup.timer",
        "etc/systemd/system/antre-backup.service",
        "etc/udev/rules.d/60-antre-printers.rules",
        "usr/local/bin/antre",
        "opt/antre",
    ]:
        assert not (root / gone).exists() and not (root / gone).is_symlink(), gone
    assert (root / "var/lib/antre/antre.db").is_file()
    assert (root / "var/lib/antre/backups/antre-20260101-023000-nightly.db.gz").is_file()
    assert (root / "etc/antre/antre.env").is_file()
    assert "kept: /var/lib/antre" in out

    # A new install carries on with the kept data and settings.
    run(INSTALL, "--root", str(root), "--role", "server", env=env)
    assert (root / "var/lib/antre/antre.db").is_file()

    purge = run(UNINSTALL, "--root", str(root), "--purge", env=env).stdout
    assert not (root / "var/lib/antre").exists() and not (root / "etc/antre").exists()
    assert "not run in --root mode: userdel antre" in purge
    assert system_calls(calls) == []


def test_device_uninstall_and_purge(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, _ = recorder
    root = pi_root(tmp_path / "root")
    run(INSTALL, "--root", str(root), *ROLE_ARGS["display"], env=env)
    run(UNINSTALL, "--root", str(root), env=env)
    assert (root / "boot/firmware/antre.conf").is_file()  # the device's settings stay
    assert not (root / "opt/antre").exists()
    assert not (root / "home/pi/.config/labwc/autostart").exists()
    run(UNINSTALL, "--root", str(root), "--purge", env=env)
    assert not (root / "boot/firmware/antre.conf").exists()
    assert not (root / "etc/antre").exists()


def test_kiosk_with_its_own_printer_runs_the_print_agent(tmp_path: Path, recorder: tuple[dict[str, str], Path]) -> None:
    env, calls = recorder
    root = pi_root(tmp_path / "root")
    args = [*ROLE_ARGS["kiosk"], "--printer", "usb:0416:5011"]
    dry = run(INSTALL, "--dry-run", "--root", str(root), *args, env=env).stdout
    assert "would write: /etc/systemd/system/antre-print-agent.service (" in dry
    assert not (root / "opt").exists()

    out = run(INSTALL, "--root", str(root), *args, env=env).stdout
    assert system_calls(calls) == []
    assert "not run in --root mode: systemctl enable antre-print-agent.service" in out
    assert "not run in --root mode: useradd --system" in out
    assert kv(root / "boot/firmware/antre.conf")["PRINTER"] == "usb:0416:5011"
    unit = (root / "etc/systemd/system/antre-print-agent.service").read_text()
    assert "ExecStart=/opt/antre/bin/antre-print-agent" in unit
    assert "ANTRE_CONF=/boot/firmware/antre.conf" in unit
    assert "RestartPreventExitStatus=78" in unit and "ProtectSystem=strict" in unit
    assert (root / "etc/udev/rules.d/60-antre-printers.rules").is_file()
    assert (root / "opt/antre/app/requirements.txt").is_file()
    assert os.access(root / "opt/antre/bin/antre-print-agent", os.X_OK)
    assert not (root / "etc/systemd/system/antre.service").exists()  # not a server
    assert kv(root / "etc/antre/install.conf")["PRINT_AGENT"] == "1"

    before = snapshot(root)
    run(INSTALL, "--root", str(root), *ROLE_ARGS["kiosk"], env=env)  # --printer not repeated
    assert snapshot(root) == before
    upgrade = run(UPGRADE, "--root", str(root), env=env).stdout
    assert "systemctl restart antre-print-agent.service" in upgrade
    assert snapshot(root) == before

    out = run(UNINSTALL, "--root", str(root), env=env).stdout
    assert "systemctl disable --now antre-print-agent.service" in out
    assert not (root / "etc/systemd/system/antre-print-agent.service").exists()
    assert not (root / "etc/udev/rules.d/60-antre-printers.rules").exists()
    assert kv(root / "boot/firmware/antre.conf")["PRINTER"] == "usb:0416:5011"


# ----------------------------------------------------------------- installed launchers

FAKE_PYTHON = """#!/usr/bin/env python3
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "pid": os.getpid(),
                  "env": {k: v for k, v in os.environ.items() if k.startswith(("ANTRE_", "HOME"))}}))
"""


def fake_prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "venv/bin").mkdir(parents=True)
    (prefix / "app").mkdir()
    for name in ["antre-server", "antre", "antre-print-agent"]:
        target = prefix / "bin" / name
        target.write_bytes((DEPLOY / "bin" / name).read_bytes())
        target.chmod(0o755)
    python = prefix / "venv/bin/python"
    python.write_text(FAKE_PYTHON.replace("/usr/bin/env python3", sys.executable, 1))
    python.chmod(0o755)
    return prefix


def test_server_launcher_builds_the_serve_command(tmp_path: Path) -> None:
    prefix = fake_prefix(tmp_path)
    base = {"PATH": os.environ["PATH"], "ANTRE_DATA_DIR": "/var/lib/antre"}
    proc = subprocess.Popen(
        [str(prefix / "bin/antre-server")],
        env=base | {"ANTRE_PORT": "8080", "ANTRE_PRINTER": "", "ANTRE_DEMO": "0"},
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = proc.communicate(timeout=20)
    got = json.loads(out)
    assert got["argv"] == [
        "server.py",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--data-dir",
        "/var/lib/antre",
    ]
    assert got["cwd"] == str(prefix / "app")
    assert got["pid"] == proc.pid  # exec: systemd's SIGTERM reaches the server itself
    full = base | {
        "ANTRE_HOST": "127.0.0.1",
        "ANTRE_PORT": "9000",
        "ANTRE_PRINTER": "usb:0416:5011",
        "ANTRE_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
        "ANTRE_DEMO": "1",
    }
    out = subprocess.run(
        [str(prefix / "bin/antre-server")], env=full, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out)["argv"][1:] == [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "9000",
        "--data-dir",
        "/var/lib/antre",
        "--printer",
        "usb:0416:5011",
        "--message-queue",
        "redis://127.0.0.1:6379/0",
        "--demo",
    ]
    missing = subprocess.run(
        [str(prefix / "bin/antre-server")],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "ANTRE_DATA_DIR" in missing.stderr


def test_cli_wrapper_adds_the_installed_data_dir(tmp_path: Path) -> None:
    prefix = fake_prefix(tmp_path)
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    install_conf = tmp_path / "install.conf"
    install_conf.write_text(f"DATA_DIR=/srv/antre-data\nSERVICE_USER={me}\n")
    env_file = tmp_path / "antre.env"
    env_file.write_text("ANTRE_PRINTER=tcp://10.0.0.9:9100\nANTRE_TIMEZONE=Asia/Makassar\n")
    env = {
        "PATH": os.environ["PATH"],
        "ANTRE_INSTALL_CONF": str(install_conf),
        "ANTRE_ENV_FILE": str(env_file),
    }
    symlink = tmp_path / "antre"
    symlink.symlink_to(prefix / "bin/antre")  # as /usr/local/bin/antre

    def call(*args: str) -> dict:
        out = subprocess.run([str(symlink), *args], env=env, capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    got = call("token", "create", "--role", "kiosk", "--name", "Kiosk 1")
    assert got["argv"][1:] == [
        "token",
        "create",
        "--role",
        "kiosk",
        "--name",
        "Kiosk 1",
        "--data-dir",
        "/srv/antre-data",
    ]
    assert got["argv"][0] == str(prefix / "app/server.py")
    doctor = call("doctor", "--json")
    assert doctor["argv"][1:] == ["doctor", "--json", "--data-dir", "/srv/antre-data"]
    assert doctor["env"]["ANTRE_PRINTER"] == "tcp://10.0.0.9:9100"
    assert doctor["env"]["ANTRE_TIMEZONE"] == "Asia/Makassar"
    assert doctor["env"]["HOME"] == "/srv/antre-data"
    assert call("doctor", "--data-dir", "/x")["argv"][1:] == ["doctor", "--data-dir", "/x"]
    assert call("--help")["argv"][1:] == ["--help"]
    assert call("token", "create", "--help")["argv"][1:] == ["token", "create", "--help"]

    install_conf.write_text("DATA_DIR=/srv/antre-data\nSERVICE_USER=no-such-user-antre\n")
    proc = subprocess.run([str(symlink), "doctor"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "sudo" in proc.stderr


def test_print_agent_launcher_reads_the_boot_partition(tmp_path: Path) -> None:
    prefix = fake_prefix(tmp_path)
    conf = tmp_path / "antre.conf"
    conf.write_bytes(
        b"# kiosk\r\nSERVER_URL=http://10.0.0.2:8080/\r\nROLE=kiosk\r\nTOKEN=secret-token\r\n"
        b"PRINTER = usb:0416:5011\r\n"
    )
    env = {"PATH": os.environ["PATH"], "ANTRE_CONF": str(conf), "ANTRE_DATA_DIR": "/var/lib/antre"}
    proc = subprocess.Popen([str(prefix / "bin/antre-print-agent")], env=env, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=20)
    got = json.loads(out)
    assert got["argv"] == [
        "server.py",
        "print-agent",
        "--server",
        "http://10.0.0.2:8080",
        "--printer",
        "usb:0416:5011",
        "--state-dir",
        "/var/lib/antre/print-agent",
    ]
    assert got["env"]["ANTRE_KIOSK_TOKEN"] == "secret-token"  # not on the command line
    assert got["pid"] == proc.pid and got["cwd"] == str(prefix / "app")
    conf.write_text("SERVER_URL=http://10.0.0.2:8080\nTOKEN=t\nPRINTER=\n")
    unset = subprocess.run([str(prefix / "bin/antre-print-agent")], env=env, capture_output=True, text=True)
    assert unset.returncode == 78 and "PRINTER" in unset.stderr
