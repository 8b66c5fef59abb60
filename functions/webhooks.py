"""The user's webhook endpoints.

POST   /                    {"url", "events", "description"?} register; the answer holds the signing secret, once
GET    /                    the user's endpoints
GET    /<id>                one endpoint
PATCH  /<id>                {"enabled"?, "events"?, "description"?} turn back on after it was disabled, change events
DELETE /<id>                delete the endpoint (its deliveries go with it)
GET    /<id>/deliveries     every delivery attempt, newest first: event, status code, latency, error
POST   /<id>/test           send a `webhook.test` event now and answer with how the endpoint took it
"""

from __future__ import annotations

import re

import flask

from shared.app import application
from shared.http import ApiError, User, json_body, user_endpoint
from shared.webhooks import delivery
from shared.webhooks import endpoints as service

_ID = r"([0-9a-fA-F-]{36})"


@user_endpoint
def webhooks(request: flask.Request, user: User) -> object:
    path = request.path.rstrip("/") or "/"
    app = application()
    db = app.database
    if path == "/" and request.method == "POST":
        return service.create_endpoint(db, user, json_body(request, service.EndpointCreate)), 201
    if path == "/" and request.method == "GET":
        return {"webhooks": service.list_endpoints(db, user)}
    if match := re.fullmatch(rf"/{_ID}", path):
        endpoint_id = match.group(1)
        if request.method == "GET":
            return service.get_endpoint(db, user, endpoint_id)
        if request.method == "PATCH":
            return service.update_endpoint(db, user, endpoint_id, json_body(request, service.EndpointUpdate))
        if request.method == "DELETE":
            return service.delete_endpoint(db, user, endpoint_id)
    if request.method == "GET" and (match := re.fullmatch(rf"/{_ID}/deliveries", path)):
        return {"deliveries": service.list_attempts(db, user, match.group(1))}
    if request.method == "POST" and (match := re.fullmatch(rf"/{_ID}/test", path)):
        service.get_endpoint(db, user, match.group(1))
        return delivery.send_test_event(db, app.queue, user.id, match.group(1))
    raise ApiError(404, "not_found", "There is nothing at this address.")
