"""GET /health: is this instance able to reach its database?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import responses
else:
    responses = lazy_module("shared.responses")  # cold start: imported by the first check (~60 ms of models)


def _health(call: Call) -> responses.Health:
    with application().database.service() as conn:
        conn.execute("select 1")
    return responses.Health(ok=True, database="reachable")


health = dispatch("health", {"GET /health": _health})
