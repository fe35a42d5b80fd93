"""Schemathesis against /openapi.json of a real server: no 5xx, no answer that differs from the spec.

Runs the schemathesis CLI (every check, including stateful sequences) with a
fixed seed, so that a run is reproducible; the output names each failure with
a curl command that reproduces it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.live import LiveServer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
#: per-operation settings (e.g. statuses a valid request may get); named, as the run's cwd is a temp dir
CONFIG = Path(__file__).resolve().parents[1] / "schemathesis.toml"


def test_api_conforms_to_its_openapi_document(tmp_path: Path):
    with LiveServer(tmp_path / "st") as live:
        token = live.token("admin")
        result = subprocess.run(
            [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{live.url}/openapi.json",
             "--header", f"Authorization: Bearer {token}",
             "--checks", "all", "--max-examples", "25", "--seed", "20261123", "--no-color"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,  # its cache stays out of the repo
        )
        server_log = live.log()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "Internal error" not in server_log and "Traceback" not in server_log, server_log[-5000:]
