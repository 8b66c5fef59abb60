"""The user's connected accounts.

GET    /                        the user's connections with status, account info, expiry, reconnect_url
GET    /<id>                    one connection
DELETE /<id>                    disconnect: revoke at the platform, wipe the tokens, keep the row
POST   /blotato/accounts        {"api_key"?} the TikTok accounts in this Blotato account, to choose from
POST   /blotato                 {"api_key"?, "account_id"?} connect TikTok through Blotato
"""

from __future__ import annotations

import re

import flask
from pydantic import Field

from shared.api.strict import StrictModel, UserText
from shared.app import application
from shared.connections import service
from shared.connections.errors import ConnectionFlowError, api_error
from shared.http import ApiError, User, json_body, user_endpoint
from shared.platforms.errors import PlatformError
from shared.publishing.targets import resume_after_reconnect

_ID = r"([0-9a-fA-F-]{36})"


# A Blotato key travels in an HTTP header: printable ASCII without spaces, or it is not a key.
_KEY_PATTERN = r"^[!-~]*$"


class BlotatoKey(StrictModel):
    api_key: UserText | None = Field(default=None, max_length=500, pattern=_KEY_PATTERN,
                                     description="The key from Blotato > Settings > API")


class BlotatoConnect(BlotatoKey):
    account_id: UserText | None = Field(default=None, max_length=200, pattern=_KEY_PATTERN)


@user_endpoint
def connections(request: flask.Request, user: User) -> object:
    path = request.path.rstrip("/") or "/"
    app = application()
    db = app.database
    try:
        if request.method == "GET" and path == "/":
            return {"connections": service.list_connections(db, user.claims)}
        if request.method == "GET" and (match := re.fullmatch(rf"/{_ID}", path)):
            return service.get_connection(db, user.claims, match.group(1))
        if request.method == "DELETE" and (match := re.fullmatch(rf"/{_ID}", path)):
            return service.disconnect(db, user.claims, match.group(1))
        if request.method == "POST" and path == "/blotato/accounts":
            return {"accounts": service.api_key_accounts("blotato", json_body(request, BlotatoKey).api_key)}
        if request.method == "POST" and path == "/blotato":
            body = json_body(request, BlotatoConnect)
            result = service.connect_api_key(db, user.id, "blotato", api_key=body.api_key,
                                             account_id=body.account_id, on_targets_resumed=app.runtime.enqueue_targets,
                                             on_reconnected=resume_after_reconnect)
            return {"platform": result.platform, "connection_ids": result.connection_ids,
                    "resumed_target_ids": result.resumed_target_ids}, 201
    except (ConnectionFlowError, PlatformError) as exc:
        raise _blotato_key_error(exc) or api_error(exc) from None
    raise ApiError(404, "not_found", "There is nothing at this address.")


def _blotato_key_error(exc: Exception) -> ApiError | None:
    """A missing or refused Blotato key is the user's input (422/400); 502/503 stay for Blotato being down."""
    from shared.connections import messages
    from shared.platforms.errors import ErrorClass

    if isinstance(exc, ConnectionFlowError) and exc.code == "blotato_key_missing":
        return ApiError(422, "blotato_key_required", exc.user_message,
                        [{"field": "api_key", "problem": "required"}])
    if isinstance(exc, PlatformError) and exc.error_class is not ErrorClass.TRANSIENT \
            and exc.user_message == messages.BLOTATO_BAD_KEY:
        return ApiError(400, "blotato_key_refused", exc.user_message, {"platform_code": exc.code})
    return None
