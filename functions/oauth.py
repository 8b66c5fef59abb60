"""Connecting accounts by OAuth.

POST|GET /start/<platform>      (signed in) the platform's authorization URL: {"authorization_url"}
GET      /callback/<platform>   (public) where the platform sends the browser back; redirects to
                                FRONTEND_URL with ?connected=<platform> or ?error=<plain message>
POST     /complete              (signed in) the same as the callback for frontends that receive the
                                code themselves: {"platform", "code", "state"} -> the connections
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import flask
from pydantic import Field

from shared.api.strict import StrictModel, UserText
from shared.app import application
from shared.connections import flow
from shared.connections.errors import ConnectionFlowError, api_error
from shared.http import ApiError, User, json_body, public_endpoint, query_args, user_endpoint
from shared.log import get_logger
from shared.platforms.errors import PlatformError
from shared.publishing.targets import resume_after_reconnect

log = get_logger(__name__)
_PLATFORM = r"([a-z]+)"


class StartRequest(StrictModel):
    return_path: UserText | None = Field(default=None, max_length=500, pattern=r"^/",
                                         description="Where in the frontend to return to, e.g. /connections")


class CompleteRequest(StrictModel):
    platform: UserText = Field(min_length=1, max_length=40)
    code: UserText | None = Field(default=None, max_length=2000)
    state: UserText | None = Field(default=None, max_length=500)
    error: UserText | None = Field(default=None, max_length=200)


@user_endpoint
def _start(request: flask.Request, user: User) -> object:
    match = re.fullmatch(rf"/start/{_PLATFORM}", request.path.rstrip("/"))
    if not match:
        raise ApiError(404, "not_found", "There is nothing at this address.")
    platform = match.group(1)
    body = json_body(request, StartRequest) if request.method == "POST" else query_args(request, StartRequest)
    try:
        url = flow.start_authorization(application().database, user.id, platform, return_path=body.return_path)
    except (ConnectionFlowError, PlatformError) as exc:
        raise api_error(exc) from None
    return {"platform": platform, "authorization_url": url}


@user_endpoint
def _complete(request: flask.Request, user: User) -> object:
    body = json_body(request, CompleteRequest)
    app = application()
    try:
        result = flow.complete_authorization(app.database, body.platform, code=body.code, state=body.state,
                                             error=body.error, expected_user_id=user.id,
                                             on_targets_resumed=app.runtime.enqueue_targets,
                                             on_reconnected=resume_after_reconnect)
    except (ConnectionFlowError, PlatformError) as exc:
        raise api_error(exc) from None
    return {"platform": result.platform, "connection_ids": result.connection_ids,
            "reconnected_ids": result.reconnected_ids, "resumed_target_ids": result.resumed_target_ids}


@public_endpoint
def _callback(request: flask.Request) -> object:
    from shared.api.openapi import OAUTH_PLATFORMS

    match = re.fullmatch(rf"/callback/{_PLATFORM}", request.path.rstrip("/"))
    if not match or match.group(1) not in OAUTH_PLATFORMS:
        raise ApiError(404, "not_found", "There is nothing at this address.")
    platform = match.group(1)
    args = request.args
    app = application()
    return_path: str | None = None
    try:
        result = flow.complete_authorization(
            app.database, platform, code=args.get("code"), state=args.get("state"),
            error=args.get("error"), on_targets_resumed=app.runtime.enqueue_targets,
            on_reconnected=resume_after_reconnect)
        return_path = result.return_path
        query = {"connected": platform, "accounts": str(len(result.connection_ids))}
    except (ConnectionFlowError, PlatformError) as exc:
        log.info("oauth callback refused", platform=platform, reason=getattr(exc, "code", ""))
        query = {"error": flow.user_message(exc, platform), "platform": platform}
    frontend = app.settings.frontend_url.rstrip("/")
    return flask.redirect(f"{frontend}{return_path or '/connections'}?{urlencode(query)}", code=302)


def oauth(request: flask.Request) -> flask.Response:
    path = request.path.rstrip("/")
    if path.startswith("/callback/"):
        return _callback(request)
    if path == "/complete":
        return _complete(request)
    return _start(request)
