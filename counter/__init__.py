"""The counter screen: staff log in, take a counter and work its queue.

Pages (``counter.views``): ``/counter`` (log-in, or the counter the person
holds), ``/counter/choose`` (take a counter), ``/counter/<id>`` (the work
screen).  JSON (``counter.api``, in the OpenAPI document): a counter's holder
and today's figures, the list of holds, take and release.  The rules live in
:mod:`antre.staff`; :func:`init_app` makes every counter action of a clerk
check that the clerk holds the counter.
"""

from __future__ import annotations

from typing import Any

from antre import staff
from counter import api as _api  # noqa: F401 - registers the JSON routes on bp
from counter.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Any, app_antre: Any) -> None:
    staff.install(app_antre.queue)
