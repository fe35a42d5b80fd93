"""Schemathesis against /openapi.json of a live server, for the feed's operations:
no 5xx, and every answer exactly as the document describes it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

pytestmark = pytest.mark.slow

FEED_PATHS = r"^/api/v1/(events|status|bookings|webhooks|feed/settings)"


@pytest.fixture(scope="module")
def feed_schema(module_live_server: Any) -> Any:
    server = module_live_server
    admin = server.token("admin")
    # something to find: a booking, a webhook (to a closed port), a few events
    server.api("POST", "/api/v1/bookings", admin,
               json={"code": "SCHEMA01", "service_id": 1, "slot_start": "2099-01-05T09:00:00+07:00"})
    server.api("POST", "/api/v1/webhooks", admin, json={"url": "http://127.0.0.1:9/x", "secret": "s" * 16})
    kiosk = server.token("kiosk")
    for _ in range(3):
        server.api("POST", "/api/v1/tickets", kiosk, json={"service_id": 1})
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json").include(path_regex=FEED_PATHS)
    schema.feed_admin = admin  # type: ignore[attr-defined]
    return schema


def _feed_operations() -> list[tuple[str, str]]:
    """The feed's operations, from the same document the server serves."""
    import feed  # noqa: F401 - adds the feed's operations
    from api.openapi import PATHS

    return [(path, method) for path, methods in sorted(PATHS.items()) if re.match(FEED_PATHS, path)
            for method in sorted(methods)]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), _feed_operations())
def test_feed_api_matches_its_openapi_description(path: str, method: str, mode: GenerationMode,
                                                  feed_schema: Any) -> None:
    """Valid input is answered as documented; invalid input is a documented 4xx, never a 5xx."""
    operation = feed_schema[path][method.upper()]
    headers = {"Authorization": f"Bearer {feed_schema.feed_admin}"}
    # Unknown query parameters are ignored server-wide (a platform may add its own, e.g. cache busters).
    excluded = [negative_data_rejection] if path == "/api/v1/events" else []

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, timeout=20, excluded_checks=excluded)

    check()
