"""Connecting accounts by OAuth: the /oauth routes of shared/api/routes.py.

POST|GET /start/<platform>      (signed in) the platform's authorization URL: {"authorization_url"}
GET      /callback/<platform>   (public) where the platform sends the browser back; redirects to
                                FRONTEND_URL with ?connected=<platform> or ?error=<plain message>
POST     /complete              (signed in) the same as the callback for frontends that receive the
                                code themselves: {"platform", "code", "state"} -> the connections
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import flask

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application
from shared.http import ApiError
from shared.log import get_logger

if TYPE_CHECKING:
    from shared import responses
    from shared.api import openapi, requests
    from shared.connections import errors, flow
    from shared.platforms import errors as platform_errors
    from shared.publishing import targets
else:
    # Cold start: imported by the first request that uses them.
    responses = lazy_module("shared.responses")
    openapi = lazy_module("shared.api.openapi")
    requests = lazy_module("shared.api.requests")
    errors = lazy_module("shared.connections.errors")
    flow = lazy_module("shared.connections.flow")
    platform_errors = lazy_module("shared.platforms.errors")
    targets = lazy_module("shared.publishing.targets")

log = get_logger(__name__)


def _start(call: Call, body: requests.StartRequest) -> responses.AuthorizationStart:
    platform = call.params["platform"]
    app = application()
    url = flow.start_authorization(app.database, app.account_access, call.user.id, platform,
                                   return_path=body.return_path, now=app.clock(),
                                   base_url=app.settings.functions_base_url)
    return responses.AuthorizationStart(platform=platform, authorization_url=url)


def _complete(call: Call) -> responses.OAuthCompleted:
    body = call.body(requests.CompleteRequest)
    app = application()
    result = flow.complete_authorization(app.database, app.account_access, body.platform, code=body.code,
                                         state=body.state, error=body.error, expected_user_id=call.user.id,
                                         on_targets_resumed=app.runtime.enqueue_targets,
                                         on_reconnected=targets.resume_after_reconnect, now=app.clock(),
                                         base_url=app.settings.functions_base_url)
    return responses.OAuthCompleted(platform=result.platform, connection_ids=result.connection_ids,
                          reconnected_ids=result.reconnected_ids, resumed_target_ids=result.resumed_target_ids)


def _callback(call: Call) -> object:
    platform = call.params["platform"]
    if platform not in openapi.oauth_platforms():
        raise ApiError(404, "not_found", "There is nothing at this address.")
    args = call.request.args
    return_path: str | None = None
    app = application()
    try:
        result = flow.complete_authorization(
            app.database, app.account_access, platform, code=args.get("code"), state=args.get("state"),
            error=args.get("error"), on_targets_resumed=app.runtime.enqueue_targets,
            on_reconnected=targets.resume_after_reconnect, now=app.clock(), base_url=app.settings.functions_base_url)
        return_path = result.return_path
        query = {"connected": platform, "accounts": str(len(result.connection_ids))}
    except (errors.ConnectionFlowError, platform_errors.PlatformError) as exc:
        log.info("oauth callback refused", platform=platform, reason=getattr(exc, "code", ""))
        query = {"error": flow.user_message(exc, platform), "platform": platform}
    frontend = app.settings.frontend_url.rstrip("/")
    return flask.redirect(f"{frontend}{return_path or '/connections'}?{urlencode(query)}", code=302)


oauth = dispatch("oauth", {
    "POST /oauth/start/{platform}": lambda call: _start(call, call.body(requests.StartRequest)),
    "GET /oauth/start/{platform}": lambda call: _start(call, call.query(requests.StartRequest)),
    "GET /oauth/callback/{platform}": _callback,
    "POST /oauth/complete": _complete,
})
