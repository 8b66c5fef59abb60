"""Cloud Scheduler target (every minute): due posts, stranded tasks, token refresh, mail, retention."""

import flask

from shared.api.endpoints import internal_endpoint
from shared.app import application
from shared.scheduler import run_tick


@internal_endpoint
def scheduler_tick(request: flask.Request) -> dict[str, object]:
    app = application()
    return run_tick(app)
