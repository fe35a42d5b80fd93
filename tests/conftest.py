"""Fixtures shared by the whole suite: real SQLite files, real servers, real browsers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from antre.clock import FrozenClock  # noqa: E402
from antre.demo import seed_demo  # noqa: E402
from antre.queue import Queue  # noqa: E402
from antre.store import Store  # noqa: E402
from tests.support.live import LiveServer, make_token  # noqa: E402

# A Monday morning in Jakarta (weekday opening hours matter in some tests).
MONDAY_0800 = datetime.fromisoformat("2026-11-23T08:00:00+07:00")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_0800)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    seed_demo(store)
    return store


@pytest.fixture
def queue(demo_store: Store, clock: FrozenClock) -> Queue:
    return Queue(demo_store, clock, "http://antre.test")


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Any:
    """The Flask app on a demo MPP, without a network server (Flask test client)."""
    from server import create_app
    from web.context import Settings

    settings = Settings(data_dir=tmp_path / "appdata", public_url="http://antre.test", demo=True, background=False)
    application = create_app(settings, clock=clock)
    application.config["TESTING"] = True
    yield application
    application.extensions["antre"].store.close()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def tokens(app: Any) -> dict[str, str]:
    data_dir = app.extensions["antre"].settings.data_dir
    return {role: make_token(data_dir, role) for role in ("admin", "counter", "kiosk", "display", "feed")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server process (gevent, real sockets) on a demo MPP."""
    server = LiveServer(tmp_path / "live").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for a whole test module (browser tests share it)."""
    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    from tests.support.browser import launch

    b = launch(playwright_instance)
    yield b
    b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID",
                                  timezone_id="Asia/Jakarta")
    p = context.new_page()
    yield p
    context.close()
