"""The running system of one server process, reachable from every blueprint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app

from antre.blocking import call_blocking
from antre.clock import Clock
from antre.queue import Outcome, Queue
from antre.store import Store

T = TypeVar("T")
log = logging.getLogger("antre")


@dataclass
class Settings:
    """What a server process is started with (CLI options, tests)."""

    data_dir: Path
    public_url: str = "http://localhost:5000"
    printer: str = "virtual"
    message_queue: str | None = None
    tz: str = "Asia/Jakarta"
    demo: bool = False
    background: bool = True  # run background loops (tests may turn them off)


@dataclass
class Antre:
    settings: Settings
    store: Store
    clock: Clock
    queue: Queue
    #: called with every committed outcome, after the commit (push, audio, ...)
    listeners: list[Callable[[Outcome], None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking core work off the event loop and return its result."""
        return call_blocking(fn, *args, **kwargs)

    def change(self, fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """Run a core write off the event loop, then publish what it committed."""
        outcome = call_blocking(fn, *args, **kwargs)
        self.publish(outcome)
        return outcome

    def publish(self, outcome: Outcome) -> None:
        for listener in self.listeners:
            try:
                listener(outcome)
            except Exception:  # noqa: BLE001 - a broken listener must not undo a committed change
                log.exception("listener failed for outcome %s", outcome.events)

    def setting(self, key: str, default: Any = None) -> Any:
        def read() -> Any:
            with self.store.read() as db:
                return self.store.get_setting(db, key, default)

        return call_blocking(read)


def antre() -> Antre:
    return current_app.extensions["antre"]
