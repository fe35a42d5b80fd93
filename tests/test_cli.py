"""The command line of the contract: serve, token create, user create, --help, audit verify."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import requests

from antre.auth import check_login, verify_token
from antre.store import Store
from tests.support.live import ROOT, LiveServer


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "server.py"), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_help_documents_every_command():
    result = cli("--help")
    assert result.returncode == 0
    for command in ("serve", "token", "user", "audit", "doctor"):
        assert command in result.stdout
    serve = cli("serve", "--help").stdout
    for option in ("--host", "--port", "--data-dir", "--demo", "--printer", "--message-queue"):
        assert option in serve


def test_token_create_prints_the_token_last_and_stores_only_its_hash(tmp_path: Path):
    result = cli("token", "create", "--data-dir", str(tmp_path), "--role", "display", "--name", "TV lobi")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    store = Store(tmp_path)
    info = verify_token(store, token)
    assert info is not None and info.role == "display" and info.name == "TV lobi"
    raw = sqlite3.connect(store.path).execute("SELECT token_hash FROM tokens").fetchall()
    assert token not in str(raw)
    bad = cli("token", "create", "--data-dir", str(tmp_path), "--role", "root", "--name", "x")
    assert bad.returncode != 0


def test_user_create_reads_the_password_from_stdin(tmp_path: Path):
    result = cli("user", "create", "--data-dir", str(tmp_path), "--username", "sari", "--role", "counter",
                 "--password-stdin", stdin="rahasia-yang-panjang\n")
    assert result.returncode == 0, result.stderr
    user = check_login(Store(tmp_path), "sari", "rahasia-yang-panjang")
    assert user["role"] == "counter"
    weak = cli("user", "create", "--data-dir", str(tmp_path), "--username", "budi", "--role", "admin",
               "--password-stdin", stdin="short\n")
    assert weak.returncode != 0 and "10" in weak.stderr + weak.stdout
    again = cli("user", "create", "--data-dir", str(tmp_path), "--username", "sari", "--role", "admin",
                "--password-stdin", stdin="another-long-password\n")
    assert again.returncode != 0


def test_audit_verify_tells_an_intact_chain_from_an_edited_one(tmp_path: Path):
    cli("token", "create", "--data-dir", str(tmp_path), "--role", "kiosk", "--name", "k1")
    cli("token", "create", "--data-dir", str(tmp_path), "--role", "kiosk", "--name", "k2")
    ok = cli("audit", "verify", "--data-dir", str(tmp_path))
    assert ok.returncode == 0 and "OK" in ok.stdout
    conn = sqlite3.connect(Store(tmp_path).path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET details = '{}' WHERE id = 1")
    conn.commit()
    conn.close()
    bad = cli("audit", "verify", "--data-dir", str(tmp_path))
    assert bad.returncode == 1 and "TAMPERED" in bad.stderr


def test_serve_prints_the_page_addresses_and_stops_cleanly_on_sigterm(tmp_path: Path):
    server = LiveServer(tmp_path / "data").start()
    assert requests.get(server.url + "/openapi.json", timeout=5).json()["openapi"] == "3.1.0"
    code = server.stop(signal.SIGTERM)
    assert code == 0
    log = server.log()
    for page in ("/kiosk", "/display", "/counter", "/admin"):
        assert f"{server.url}{page}" in log
    assert "Traceback" not in log
