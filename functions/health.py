"""GET /health: is this instance able to reach its database?"""

import flask

from shared.db import database
from shared.http import public_endpoint


@public_endpoint
def health(request: flask.Request) -> dict[str, object]:
    with database().service() as conn:
        conn.execute("select 1")
    return {"ok": True, "database": "reachable"}
