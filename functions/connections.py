"""The user's connected accounts: the /connections routes of shared/api/routes.py.

GET    /                        the user's connections with status, account info, expiry, reconnect_url
GET    /<id>                    one connection
DELETE /<id>                    disconnect: revoke at the platform, wipe the tokens, keep the row
POST   /blotato/accounts        {"api_key"?} the TikTok accounts in this Blotato account, to choose from
POST   /blotato                 {"api_key"?, "account_id"?} connect TikTok through Blotato
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared import responses
    from shared.api import requests
    from shared.connections import errors, service
    from shared.platforms import registry
    from shared.publishing import targets
else:
    # Cold start: imported by the first request that uses them.
    responses = lazy_module("shared.responses")
    requests = lazy_module("shared.api.requests")
    errors = lazy_module("shared.connections.errors")
    service = lazy_module("shared.connections.service")
    registry = lazy_module("shared.platforms.registry")
    targets = lazy_module("shared.publishing.targets")


def _api_key_platform(call: Call) -> str:
    """The platform the route names (/connections/<key>/...): one whose accounts connect with an API key."""
    key = call.route.path.split("/")[2]
    assert registry.registry()[key].uses_api_key, f"{call.route.key}: {key} connects by signing in"
    return key


def _api_key_accounts(call: Call) -> responses.BlotatoAccounts:
    with errors.blotato_key_as_input():
        accounts = service.api_key_accounts(application().account_access.providers, _api_key_platform(call),
                                            call.body(requests.BlotatoKey).api_key)
    return responses.BlotatoAccounts(
        accounts=[responses.BlotatoAccount.model_validate(account) for account in accounts])


def _connect_api_key(call: Call) -> responses.Connected:
    body = call.body(requests.BlotatoConnect)
    with errors.blotato_key_as_input():
        app = application()
        result = service.connect_api_key(app.database, app.account_access, call.user.id, _api_key_platform(call),
                                         api_key=body.api_key,
                                         account_id=body.account_id, on_targets_resumed=app.runtime.enqueue_targets,
                                         on_reconnected=targets.resume_after_reconnect, now=app.clock())
    return responses.Connected(platform=result.platform, connection_ids=result.connection_ids,
                     resumed_target_ids=result.resumed_target_ids)


connections = dispatch("connections", {
    "GET /connections": lambda call: service.list_connections(
        application().database, call.user.claims, application().settings.functions_base_url),
    "GET /connections/{connection_id}": lambda call: service.get_connection(
        application().database, call.user.claims, call.params["connection_id"],
        application().settings.functions_base_url),
    "DELETE /connections/{connection_id}": lambda call: service.disconnect(
        application().database, application().account_access, call.user.claims, call.params["connection_id"],
        application().settings.functions_base_url),
    "POST /connections/blotato/accounts": _api_key_accounts,
    "POST /connections/blotato": _connect_api_key,
})
