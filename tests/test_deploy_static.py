"""Static checks of deploy/raspberrypi: shellcheck, systemd-analyze verify, udev rule."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "raspberrypi"


def shell_scripts() -> list[Path]:
    """Every bash script under deploy/: *.sh files and files with a bash shebang."""
    found = []
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file() or path.suffix in {".py", ".md", ".html", ".in"}:
            continue
        head = path.read_bytes()[:64]
        if path.suffix == ".sh" or head.startswith((b"#!/usr/bin/env bash", b"#!/bin/bash")):
            found.append(path)
    return found


def test_the_scripts_are_all_found() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in shell_scripts()}
    assert {
        "install.sh",
        "uninstall.sh",
        "upgrade.sh",
        "lib/common.sh",
        "bin/antre",
        "bin/antre-server",
        "bin/antre-browser",
        "bin/antre-print-agent",
    } <= names


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_clean() -> None:
    """Plain `shellcheck FILE...` from the repository root (deploy/raspberrypi/.shellcheckrc
    makes it follow lib/common.sh), at the strictest severity, every script at once."""
    scripts = [str(p.relative_to(REPO)) for p in shell_scripts()]
    proc = subprocess.run(
        ["shellcheck", "--severity=style", "--format=gcc", *scripts],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shellcheck_check_can_fail(tmp_path: Path) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    proc = subprocess.run(["shellcheck", "--format=gcc", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0 and "SC2086" in proc.stdout


def test_scripts_are_executable_and_strict() -> None:
    for script in shell_scripts():
        text = script.read_text()
        if script.name != "common.sh":
            assert os.access(script, os.X_OK), script
            assert "set -euo pipefail" in text, script


# ------------------------------------------------------------------------ systemd units


def installed_root(tmp_path: Path, *extra: str) -> Path:
    """install.sh --root into tmp_path/root (role server unless extra names one)."""
    role = [] if "--role" in extra else ["--role", "server"]
    root = tmp_path / "root"
    root.mkdir()
    env = dict(os.environ)
    fake = tmp_path / "shims"
    fake.mkdir()
    for name in ["apt-get", "systemctl", "useradd", "groupadd", "usermod", "udevadm", "npm", "chown"]:
        (fake / name).write_text("#!/bin/sh\nexit 1\n")
        (fake / name).chmod(0o755)
    env["PATH"] = f"{fake}:{env['PATH']}"
    proc = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--root", str(root), *role, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", *[u.name for u in units]],
        capture_output=True,
        text=True,
        cwd=units[0].parent,
        timeout=60,
        env=dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER=""),
    )


def rebased_units(root: Path, dest: Path, prefix: str, data_dir: str) -> list[Path]:
    """The installed units, with the install's paths pointing into the throwaway root,
    so that systemd-analyze finds the programs they start."""
    dest.mkdir()
    units = []
    for unit in sorted((root / "etc/systemd/system").iterdir()):
        text = unit.read_text()
        text = text.replace(prefix, f"{root}{prefix}").replace(data_dir, f"{root}{data_dir}")
        (dest / unit.name).write_text(text)
        units.append(dest / unit.name)
    return units


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
@pytest.mark.parametrize(("prefix", "data_dir"), [("/opt/antre", "/var/lib/antre"), ("/srv/antre", "/srv/antre-data")])
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path, prefix: str, data_dir: str) -> None:
    root = installed_root(tmp_path, "--prefix", prefix, "--data-dir", data_dir)
    units = rebased_units(root, tmp_path / "units", prefix, data_dir)
    assert [u.name for u in units] == ["antre-backup.service", "antre-backup.timer", "antre.service"]
    for unit in units:
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                program = line.split("=", 1)[1].split()[0]
                assert os.access(program, os.X_OK), program
    proc = verify(units)
    assert proc.returncode == 0, proc.stderr
    # systemd-analyze exits 0 on unknown keys and bad values too: it must say nothing.
    assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_analyze_verify_accepts_the_print_agent_unit(tmp_path: Path) -> None:
    root = installed_root(
        tmp_path,
        "--role",
        "kiosk",
        "--printer",
        "usb:0416:5011",
        "--desktop-user",
        "pi",
    )
    units = rebased_units(root, tmp_path / "units", "/opt/antre", "/var/lib/antre")
    assert [u.name for u in units] == ["antre-print-agent.service"]
    proc = verify(units)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_verify_check_catches_mistakes(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key or a missing program is reported."""
    root = installed_root(tmp_path)
    units = rebased_units(root, tmp_path / "units", "/opt/antre", "/var/lib/antre")
    service = units[2]
    service.write_text(service.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    proc = verify([service])
    assert "NoNewPrivilege" in proc.stderr
    timer = units[1]
    timer.write_text(timer.read_text().replace("02:30:00", "25:30:00"))
    assert verify([timer]).stderr.strip() != ""
    (root / "opt/antre/bin/antre-server").unlink()
    proc = verify([units[2]])
    assert proc.returncode != 0 and "antre-server" in proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_backup_time_is_a_valid_calendar_in_the_mpp_zone(tmp_path: Path) -> None:
    root = installed_root(tmp_path, "--timezone", "Asia/Jayapura", "--backup-time", "23:45")
    timer = (root / "etc/systemd/system/antre-backup.timer").read_text()
    spec = re.search(r"^OnCalendar=(.*)$", timer, re.M)
    assert spec is not None
    proc = subprocess.run(["systemd-analyze", "calendar", spec.group(1)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "Normalized form: *-*-* 23:45:00 Asia/Jayapura" in proc.stdout


# ---------------------------------------------------------------------------- udev rule

UDEV_KEYS = {
    "ACTION",
    "SUBSYSTEM",
    "ENV",
    "ATTR",
    "IMPORT",
    "GROUP",
    "MODE",
    "GOTO",
    "LABEL",
}
TOKEN = re.compile(r'\s*([A-Z]+)(\{[A-Za-z0-9_ =-]+\})?\s*(==|!=|=|\+=|:=)\s*"([^"]*)"\s*(,|$)')


def parse_rule(line: str) -> list[tuple[str, str | None, str, str]]:
    tokens, pos = [], 0
    while pos < len(line):
        m = TOKEN.match(line, pos)
        assert m, f"cannot parse udev rule at {line[pos:]!r}"
        key, attr, op, value, _ = m.groups()
        tokens.append((key, attr, op, value))
        pos = m.end()
    return tokens


def test_udev_rule_grants_the_printers_to_the_antre_group(tmp_path: Path) -> None:
    root = installed_root(tmp_path)
    rule = (root / "etc/udev/rules.d/60-antre-printers.rules").read_text()
    labels, gotos, vendors = set(), set(), set()
    class_rule = False
    for line in rule.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens = parse_rule(line)
        for key, attr, op, value in tokens:
            assert key in UDEV_KEYS, key
            if key == "GOTO":
                gotos.add(value)
            if key == "LABEL":
                labels.add(value)
            if key == "GROUP":
                assert (op, value) == ("=", "antre")
            if key == "MODE":
                assert (op, value) == ("=", "0660")
            if key == "ATTR" and attr == "{idVendor}":
                assert re.fullmatch(r"[0-9a-f]{4}", value), value
                vendors.add(value)
            if key == "ENV" and attr == "{ID_USB_INTERFACES}" and "0701" in value:
                class_rule = True
        assigns = [t for t in tokens if t[2] == "="]
        if any(t[0] == "GROUP" for t in assigns):
            assert any(t[0] == "MODE" for t in assigns)
    assert gotos == labels == {"antre_printers_end"}
    assert class_rule  # USB printer class 07
    assert {"04b8", "0416", "0483", "1fc9", "28e9", "6868"} <= vendors
