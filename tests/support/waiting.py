"""Waiting for a condition in tests, instead of sleeping a guessed time."""

from __future__ import annotations

import time
from typing import Any


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Call ``predicate`` until it returns something true; return that value.

    Fails the test (AssertionError) when ``timeout`` seconds pass first.
    """
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"condition not met in {timeout} s")
        time.sleep(interval)
