"""GET /health: is this instance able to reach its database?"""

from shared.api.dispatch import Call, dispatch
from shared.app import application
from shared.responses import Health


def _health(call: Call) -> Health:
    with application().database.service() as conn:
        conn.execute("select 1")
    return Health(ok=True, database="reachable")


health = dispatch("health", {"GET /health": _health})
