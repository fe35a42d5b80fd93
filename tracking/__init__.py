"""The visitor's phone tracking page (``track_url`` = ``{public_url}/t/<token>``).

See :mod:`tracking.views` for the page and :mod:`tracking.live` for the live
position updates pushed to it.
"""

from __future__ import annotations

from typing import Any

from tracking.views import bp
from web.context import Antre

__all__ = ["bp", "init_app"]


def init_app(app: Any, app_antre: Antre) -> None:
    from tracking.live import PositionPush

    if app_antre.settings.background:
        push = PositionPush(app_antre)
        app_antre.listeners.append(push.on_outcome)
        app_antre.extras["tracking_push"] = push
