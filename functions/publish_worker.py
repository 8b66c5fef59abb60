"""Cloud Tasks target: advance one publish target by one step.

Deployed once per platform (`publish-<platform>`, each with its own queue and
limits); the body is {"target_id", "seq"}. Every answer is 2xx unless the
delivery itself should be retried by Cloud Tasks: duplicates and stale tasks are
successful no-ops.
"""

from typing import TYPE_CHECKING

import flask

from shared.api.endpoints import internal_endpoint
from shared.api.lazy import lazy_module
from shared.app import application
from shared.http import ApiError

if TYPE_CHECKING:
    from shared.publishing import worker
else:
    worker = lazy_module("shared.publishing.worker")  # cold start: imported by the first task


@internal_endpoint
def publish_worker(request: flask.Request) -> dict[str, object]:
    payload = request.get_json(silent=True) or {}
    target_id = payload.get("target_id")
    if not isinstance(target_id, str):
        raise ApiError(400, "bad_task", "A publish task needs a target_id.")
    seq = payload.get("seq")
    outcome = worker.advance(application().runtime, target_id, seq if isinstance(seq, int) else None)
    return {"target_id": target_id, "outcome": outcome}
