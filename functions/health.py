"""GET /health: is this instance able to reach its database?"""

from shared.api.dispatch import Call, dispatch
from shared.app import application


def _health(call: Call) -> dict[str, object]:
    with application().database.service() as conn:
        conn.execute("select 1")
    return {"ok": True, "database": "reachable"}


health = dispatch("health", {"GET /health": _health})
