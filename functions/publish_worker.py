"""Cloud Tasks target: advance one publish target by one step.

Deployed once per platform (`publish-<platform>`, each with its own queue and
limits); the body is {"target_id", "seq"}. Every answer is 2xx unless the
delivery itself should be retried by Cloud Tasks: duplicates and stale tasks are
successful no-ops.
"""

import flask

from shared.api.endpoints import internal_endpoint
from shared.app import application
from shared.http import ApiError
from shared.publishing.worker import advance


@internal_endpoint
def publish_worker(request: flask.Request) -> dict[str, object]:
    payload = request.get_json(silent=True) or {}
    target_id = payload.get("target_id")
    if not isinstance(target_id, str):
        raise ApiError(400, "bad_task", "A publish task needs a target_id.")
    seq = payload.get("seq")
    outcome = advance(application().runtime, target_id, seq if isinstance(seq, int) else None)
    return {"target_id": target_id, "outcome": outcome}
