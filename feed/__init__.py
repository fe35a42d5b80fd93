"""The MPP Digital feed: webhook delivery, booking and feed administration routes.

The events cursor API, status API and bookings API of the contract live in
:mod:`api.routes`; delivery itself is plain Python in :mod:`antre.webhooks`.
This part wires delivery into a server process: one
:class:`~antre.webhooks.WebhookService` per process, woken after every
committed change; of several processes on one data dir only the holder of the
database lease delivers.  See ``feed/INTEGRATION.md`` for integrators.
"""

from __future__ import annotations

import atexit
from typing import Any

from antre.queue import Outcome
from antre.webhooks import WebhookDeliverer, WebhookService
from feed.routes import bp
from web.context import Antre

__all__ = ["bp", "init_app"]


def init_app(app: Any, app_antre: Antre) -> None:
    service = WebhookService(WebhookDeliverer(app_antre.store))
    app_antre.extras["webhooks"] = service
    if not app_antre.settings.background:
        return

    def on_outcome(outcome: Outcome) -> None:
        if outcome.events:
            service.wake()

    app_antre.listeners.append(on_outcome)
    service.start()
    atexit.register(service.stop)  # hand the lease on at a clean stop (SIGTERM)
