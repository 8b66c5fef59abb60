"""GET /health: is this instance able to reach its database?"""

import flask

from shared.app import application
from shared.http import public_endpoint


@public_endpoint
def health(request: flask.Request) -> dict[str, object]:
    with application().database.service() as conn:
        conn.execute("select 1")
    return {"ok": True, "database": "reachable"}
