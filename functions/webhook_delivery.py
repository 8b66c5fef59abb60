"""Cloud Tasks target (queue `webhooks`): one attempt of one webhook delivery.

The body is {"delivery_id", "attempt"}. The answer is 2xx whatever the endpoint did:
the attempt is recorded and the next one scheduled by us, not by Cloud Tasks' retries.
"""

from typing import TYPE_CHECKING

import flask

from shared.api.endpoints import internal_endpoint
from shared.api.lazy import lazy_module
from shared.app import application
from shared.http import ApiError

if TYPE_CHECKING:
    from shared.webhooks import delivery
else:
    delivery = lazy_module("shared.webhooks.delivery")  # cold start: imported by the first task


@internal_endpoint
def webhook_delivery(request: flask.Request) -> dict[str, object]:
    payload = request.get_json(silent=True) or {}
    delivery_id, attempt = payload.get("delivery_id"), payload.get("attempt")
    if not isinstance(delivery_id, str) or not isinstance(attempt, int):
        raise ApiError(400, "bad_task", "A webhook task needs a delivery_id and an attempt number.")
    app = application()
    return {"delivery_id": delivery_id, "outcome": delivery.deliver(app.database, app.queue, delivery_id, attempt,
                                                                 app.clock(), vault=app.vault,
                                                                 settings=app.settings)}
