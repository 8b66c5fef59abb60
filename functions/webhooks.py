"""The user's webhook endpoints: the /webhooks routes of shared/api/routes.py.

POST   /                    {"url", "events", "description"?} register; the answer holds the signing secret, once
GET    /                    the user's endpoints
GET    /<id>                one endpoint
PATCH  /<id>                {"enabled"?, "events"?, "description"?} turn back on after it was disabled, change events
DELETE /<id>                delete the endpoint (its deliveries go with it)
GET    /<id>/deliveries     every delivery attempt, newest first: event, status code, latency, error
POST   /<id>/test           send a `webhook.test` event now and answer with how the endpoint took it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import responses
    from shared.webhooks import delivery
    from shared.webhooks import endpoints as service
else:
    # Cold start: imported by the first request that uses them.
    responses = lazy_module("shared.responses")
    delivery = lazy_module("shared.webhooks.delivery")
    service = lazy_module("shared.webhooks.endpoints")


def _send_test(call: Call) -> responses.WebhookTestResult:
    endpoint_id = call.params["webhook_id"]
    app = application()
    service.get_endpoint(app.database, call.user, endpoint_id)  # 404 unless it is the user's
    return delivery.send_test_event(app.database, app.queue, call.user.id, endpoint_id, app.clock(),
                                    vault=app.vault, settings=app.settings)


webhooks = dispatch("webhooks", {
    "POST /webhooks": lambda call: service.create_endpoint(
        application().database, application().vault, call.user, call.body(service.EndpointCreate)),
    "GET /webhooks": lambda call: service.list_endpoints(application().database, call.user),
    "GET /webhooks/{webhook_id}": lambda call: service.get_endpoint(
        application().database, call.user, call.params["webhook_id"]),
    "PATCH /webhooks/{webhook_id}": lambda call: service.update_endpoint(
        application().database, call.user, call.params["webhook_id"], call.body(service.EndpointUpdate)),
    "DELETE /webhooks/{webhook_id}": lambda call: service.delete_endpoint(
        application().database, call.user, call.params["webhook_id"]),
    "GET /webhooks/{webhook_id}/deliveries": lambda call: service.list_attempts(
        application().database, call.user, call.params["webhook_id"]),
    "POST /webhooks/{webhook_id}/test": _send_test,
})
