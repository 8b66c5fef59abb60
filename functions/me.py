"""The signed-in user's own settings.

GET   /notifications    which mails the user gets, per kind: all, failures or none
PATCH /notifications    {"publishing"?, "connections"?, "webhooks"?} change them
"""

from __future__ import annotations

import flask

from shared.app import application
from shared.http import ApiError, User, json_body, user_endpoint
from shared.notify import preferences


@user_endpoint
def me(request: flask.Request, user: User) -> object:
    path = request.path.rstrip("/") or "/"
    db = application().database
    if path == "/notifications" and request.method == "GET":
        return preferences.read(db, user.claims)
    if path == "/notifications" and request.method == "PATCH":
        return preferences.update(db, user.claims, json_body(request, preferences.PreferencesUpdate))
    raise ApiError(404, "not_found", "There is nothing at this address.")
