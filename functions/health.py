"""GET /health: is this instance able to reach its database?"""

from typing import TYPE_CHECKING

from shared.api.dispatch import Call, dispatch
from shared.app import application

if TYPE_CHECKING:
    from shared.responses import Health


def _health(call: Call) -> "Health":
    # Imported on the first check, not at cold start: the response models take ~70 ms to load.
    from shared.responses import Health

    with application().database.service() as conn:
        conn.execute("select 1")
    return Health(ok=True, database="reachable")


health = dispatch("health", {"GET /health": _health})
