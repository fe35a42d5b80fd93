"""deploy/raspberrypi/bin/antre-browser: the kiosk/display Chromium and its watchdog.

The launcher runs for real (as installed by install.sh into a throwaway root),
against a real HTTP server standing in for Antre's /healthz and a stand-in
"Chromium" that records how it was started and answers DevTools' /json/list.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "raspberrypi"

FAKE_BROWSER = """#!PYTHON
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
state = os.environ["FAKE_STATE"]
port = int(next(a for a in sys.argv if a.startswith("--remote-debugging-port=")).split("=", 1)[1])
url = sys.argv[-1]
with open(os.path.join(state, "launches.jsonl"), "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[1:]}) + "\\n")
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        page = url
        override = os.path.join(state, "page-url")
        if os.path.exists(override):
            page = open(override).read().strip()
        body = json.dumps([{"type": "page", "url": page},
                           {"type": "service_worker", "url": "chrome://x"}]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
if os.path.exists(os.path.join(state, "hang")):
    while True:
        signal.pause()
ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Health:
    """The Antre server's GET /healthz, switchable."""

    def __init__(self) -> None:
        self.up = True
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = health.up and self.path == "/healthz"
                body = json.dumps({"ok": ok}).encode()
                self.send_response(200 if ok else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Kiosk:
    root: Path
    state: Path
    conf: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def launcher(self) -> Path:
        return self.root / "opt/antre/bin/antre-browser"

    def start(self) -> subprocess.Popen[str]:
        """Starts the watchdog; its log goes to log_path(n) (n = 0 for the first)."""
        with self.log_path(len(self.procs)).open("w") as log:
            proc = subprocess.Popen(
                [str(self.launcher)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        self.procs.append(proc)
        return proc

    def log_path(self, n: int = 0) -> Path:
        return self.state / f"watchdog-{n}.log"

    def log(self, n: int = 0) -> str:
        return self.log_path(n).read_text()

    def launches(self) -> list[dict]:
        path = self.state / "launches.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait(self, what: str, cond: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; launches: {self.launches()}")

    def wait_launches(self, n: int) -> dict:
        self.wait(f"{n} launches", lambda: len(self.launches()) >= n)
        return self.launches()[n - 1]


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("pi:x:1000:1000::/home/pi:/bin/bash\n")
    (root / "boot/firmware").mkdir(parents=True)
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in ["apt-get", "systemctl", "raspi-config", "timedatectl", "chown"]:
        (shims / name).write_text("#!/bin/sh\nexit 1\n")
        (shims / name).chmod(0o755)
    env = dict(os.environ, PATH=f"{shims}:{os.environ['PATH']}")
    subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--root", str(root), "--role", "display"],
        check=True,
        capture_output=True,
        env=env,
        timeout=60,
    )
    state = tmp_path / "state"
    state.mkdir()
    browser = tmp_path / "fake-chromium"
    browser.write_text(FAKE_BROWSER.replace("PYTHON", sys.executable, 1))
    browser.chmod(0o755)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        # The system's programs, as on a Pi (not a developer's python3 wrappers).
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
        "ANTRE_CONF": str(root / "boot/firmware/antre.conf"),
        "ANTRE_BROWSER": str(browser),
        "ANTRE_WATCH_INTERVAL": "0.1",
        "ANTRE_AWAY_AFTER": "2",
        "ANTRE_DEVTOOLS_PORT": str(free_port()),
        # Long enough for the stand-in browser to start on a busy machine.
        "ANTRE_DEVTOOLS_GRACE": "3",
        "ANTRE_LOG": "stderr",
        "FAKE_STATE": str(state),
    }
    k = Kiosk(root=root, state=state, conf=root / "boot/firmware/antre.conf", env=env)
    yield k
    for proc in k.procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
    for launch in k.launches():
        try:
            os.kill(launch["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def write_conf(k: Kiosk, **values: str) -> None:
    lines = [f"{key}={value}" for key, value in values.items()]
    k.conf.write_bytes(("# edited on Windows\r\n" + "\r\n".join(lines) + "\r\n").encode())


def test_display_follows_the_server(kiosk: Kiosk) -> None:
    health = Health()
    try:
        write_conf(
            kiosk,
            SERVER_URL=health.url + "/",
            ROLE="display",
            TOKEN="tok+en/1",
            ZONE="Lantai 1",
            CHROMIUM_FLAGS="--force-device-scale-factor=1.5",
        )
        proc = kiosk.start()
        first = kiosk.wait_launches(1)
        url = f"{health.url}/display?zone=Lantai%201&token=tok%2Ben%2F1"
        assert first["argv"][-1] == url
        flags = first["argv"][:-1]
        for flag in [
            "--kiosk",
            "--noerrdialogs",
            "--disable-session-crashed-bubble",
            "--incognito",
            "--autoplay-policy=no-user-gesture-required",
            "--touch-events=enabled",
            "--disable-pinch",
            "--overscroll-history-navigation=0",
            "--force-device-scale-factor=1.5",
        ]:
            assert flag in flags, flag
        assert f"--user-data-dir={kiosk.env['XDG_RUNTIME_DIR']}/antre-chromium" in flags

        # The server goes away: the page stays (it shows its own offline state)...
        health.up = False
        kiosk.wait("the server to count as away", lambda: "is not answering" in kiosk.log())
        time.sleep(0.3)
        assert len(kiosk.launches()) == 1
        # ...and comes back: a fresh page.
        health.up = True
        second = kiosk.wait_launches(2)
        assert second["argv"][-1] == url
        assert not alive(first["pid"])

        # Chromium crashes: started again.
        os.kill(second["pid"], signal.SIGKILL)
        third = kiosk.wait_launches(3)
        assert third["argv"][-1] == url

        # The page is an error page (a load that failed): reloaded.
        (kiosk.state / "page-url").write_text("chrome-error://chromewebdata/")
        kiosk.wait_launches(4)
        (kiosk.state / "page-url").unlink()

        # Chromium hangs (DevTools does not answer): restarted.
        (kiosk.state / "hang").touch()
        os.kill(kiosk.launches()[-1]["pid"], signal.SIGKILL)
        hung = kiosk.wait_launches(5)
        (kiosk.state / "hang").unlink()
        kiosk.wait_launches(6)
        assert not alive(hung["pid"])

        # All quiet: no more restarts.
        time.sleep(0.8)
        assert len(kiosk.launches()) == 6

        # Stopping the watchdog stops Chromium.
        last = kiosk.launches()[-1]
        proc.terminate()
        proc.wait(timeout=10)
        kiosk.wait("Chromium to stop", lambda: not alive(last["pid"]))
        log = kiosk.log()
        assert "tok+en" not in log and "tok%2Ben" not in log  # the token is not logged
        assert "server is back" in log and "Chromium exited" in log
    finally:
        health.close()


def test_waits_for_the_server_at_start_up(kiosk: Kiosk) -> None:
    health = Health()
    try:
        health.up = False
        write_conf(kiosk, SERVER_URL=health.url, ROLE="kiosk", TOKEN="k1")
        kiosk.start()
        first = kiosk.wait_launches(1)
        status_page = kiosk.root / "opt/antre/share/antre/status.html"
        assert first["argv"][-1].startswith(f"file://{status_page}#waiting|http%3A%2F%2F127.0.0.1")
        time.sleep(0.6)
        assert len(kiosk.launches()) == 1  # the waiting page is not restarted
        health.up = True
        second = kiosk.wait_launches(2)
        assert second["argv"][-1] == f"{health.url}/kiosk?token=k1"
    finally:
        health.close()


def test_configuration_problems_are_shown(kiosk: Kiosk) -> None:
    status = f"file://{kiosk.root}/opt/antre/share/antre/status.html"
    write_conf(kiosk, SERVER_URL="", ROLE="display")
    proc = kiosk.start()
    assert kiosk.wait_launches(1)["argv"][-1] == f"{status}#no-server-url"
    # Fixed while running (e.g. over SSH): picked up without a restart.
    write_conf(kiosk, SERVER_URL="http://192.0.2.1:8080", ROLE="tv")
    assert kiosk.wait_launches(2)["argv"][-1].startswith(f"{status}#bad-role|")
    kiosk.conf.unlink()
    assert kiosk.wait_launches(3)["argv"][-1] == f"{status}#no-config"
    assert proc.poll() is None


def test_survives_the_settings_file_being_rewritten(kiosk: Kiosk) -> None:
    """Editors save by writing a new file and renaming it; the watchdog must not die
    when the file vanishes or is half-written at the moment it reads it."""
    health = Health()
    try:
        write_conf(kiosk, SERVER_URL=health.url, ROLE="display", TOKEN="d")
        proc = kiosk.start()
        kiosk.wait_launches(1)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            kiosk.conf.unlink()
            kiosk.conf.write_text(f"SERVER_URL={health.url}\n")
            write_conf(kiosk, SERVER_URL=health.url, ROLE="display", TOKEN="d")
        assert proc.poll() is None, kiosk.log()
        page = f"{health.url}/display?token=d"

        def settled() -> bool:
            last = kiosk.launches()[-1]
            return last["argv"][-1] == page and alive(last["pid"])

        # A round that read the file mid-churn may act after it: wait until the
        # server page has stayed up, unchanged, for a while.
        seen: list[tuple[int, float]] = []

        def stable() -> bool:
            if not settled():
                seen.clear()
                return False
            count = len(kiosk.launches())
            if not seen or seen[0][0] != count:
                seen[:] = [(count, time.monotonic())]
            return time.monotonic() - seen[0][1] >= 2.0

        kiosk.wait("the server page to stay up", stable)
        assert proc.poll() is None
    finally:
        health.close()


def test_page_override_for_a_counter_display(kiosk: Kiosk) -> None:
    health = Health()
    try:
        write_conf(kiosk, SERVER_URL=health.url, ROLE="display", TOKEN="d", PAGE="display/counter/3")
        kiosk.start()
        assert kiosk.wait_launches(1)["argv"][-1] == f"{health.url}/display/counter/3?token=d"
    finally:
        health.close()


def test_one_watchdog_per_session(kiosk: Kiosk) -> None:
    write_conf(kiosk, SERVER_URL="", ROLE="display")
    kiosk.start()
    kiosk.wait_launches(1)
    second = kiosk.start()
    assert second.wait(timeout=10) == 0
    assert "already running" in kiosk.log(1)
    time.sleep(0.3)
    assert len(kiosk.launches()) == 1


def test_daily_restart(kiosk: Kiosk) -> None:
    health = Health()
    try:
        write_conf(kiosk, SERVER_URL=health.url, ROLE="display")
        kiosk.start()
        kiosk.wait_launches(1)
        time.sleep(0.5)
        assert len(kiosk.launches()) == 1
        # The settings are read every round: set the restart time to this minute
        # (again, should the minute turn before the watchdog saw it).
        deadline = time.monotonic() + 30
        while len(kiosk.launches()) < 2 and time.monotonic() < deadline:
            minute = time.strftime("%H:%M")
            write_conf(kiosk, SERVER_URL=health.url, ROLE="display", DAILY_RESTART=minute)
            while time.strftime("%H:%M") == minute and len(kiosk.launches()) < 2:
                time.sleep(0.05)
        assert len(kiosk.launches()) == 2, kiosk.log()
        assert "daily restart" in kiosk.log()
        time.sleep(1.0)
        assert len(kiosk.launches()) == 2  # once a day, not once a round
    finally:
        health.close()
