"""Cloud Scheduler target (every minute): due posts, stranded tasks, token refresh, mail, retention."""

from typing import TYPE_CHECKING

import flask

from shared.api.endpoints import internal_endpoint
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import scheduler
else:
    scheduler = lazy_module("shared.scheduler")  # cold start: imported by the first tick


@internal_endpoint
def scheduler_tick(request: flask.Request) -> dict[str, object]:
    app = application()
    return scheduler.run_tick(app)
