"""Operator endpoint (service-role key only).

GET /metrics    each alert's current value, limit and whether it is breached (docs/deploy.md, Alerts)
"""

from __future__ import annotations

import flask

from shared.api.endpoints import public_endpoint
from shared.app import application
from shared.http import ApiError
from shared.ops.access import require_service_role
from shared.ops.metrics import as_json, readings


@public_endpoint
def ops(request: flask.Request) -> object:
    require_service_role(request.headers.get("Authorization", ""), application().settings.supabase_jwt_secret)
    path = request.path.rstrip("/").removeprefix("/ops") or "/"
    if request.method == "GET" and path == "/metrics":
        app = application()
        now = app.clock()
        return as_json(readings(app.database, now), now)
    raise ApiError(404, "not_found", "There is nothing at this address.")
