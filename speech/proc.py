"""Running a helper program (espeak-ng, aplay) with a hard time limit."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes


def run(cmd: list[str], timeout: float, input_bytes: bytes | None = None) -> Finished:
    """Run ``cmd``; raise :class:`subprocess.TimeoutExpired` after ``timeout`` seconds.

    The program runs in its own process group and the whole group is killed
    on timeout: ``subprocess.run`` kills only the direct child and then
    waits for the pipes to close, so a wrapper script's own children (or a
    hung audio helper) would hold it far beyond the timeout.
    """
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise
    return Finished(proc.returncode, out, err)
