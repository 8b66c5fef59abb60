"""GET /platforms (signed in): every platform and integration with what a composer needs.

Limits and how characters are counted, media rules, the options model as JSON Schema,
how to connect, the user's accounts with their budgets left, and for TikTok the
creator's current privacy choices. Built by shared/api/catalog.py from the same
declarations the publish request is checked against.
"""

import flask

from shared.api.catalog import platform_catalog
from shared.app import application
from shared.http import ApiError, User, user_endpoint


@user_endpoint
def platforms(request: flask.Request, user: User) -> object:
    if (request.path.rstrip("/") or "/") != "/":
        raise ApiError(404, "not_found", "There is nothing at this address.")
    return platform_catalog(application().runtime, user)
