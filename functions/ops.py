"""Operator endpoint (service-role key only).

GET /metrics    each alert's current value, limit and whether it is breached (docs/deploy.md, Alerts)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from shared.api.endpoints import public_endpoint
from shared.api.lazy import lazy_module
from shared.app import application
from shared.http import ApiError

if TYPE_CHECKING:
    from shared.ops import access, metrics
else:
    # Cold start: imported by the first request that uses them.
    access = lazy_module("shared.ops.access")
    metrics = lazy_module("shared.ops.metrics")


@public_endpoint
def ops(request: flask.Request) -> object:
    access.require_service_role(request.headers.get("Authorization", ""), application().settings.supabase_jwt_secret)
    path = request.path.rstrip("/").removeprefix("/ops") or "/"
    if request.method == "GET" and path == "/metrics":
        app = application()
        now = app.clock()
        return metrics.as_json(metrics.readings(app.database, now), now)
    raise ApiError(404, "not_found", "There is nothing at this address.")
