"""The user's connected accounts: the /connections routes of shared/api/routes.py.

GET    /                        the user's connections with status, account info, expiry, reconnect_url
GET    /<id>                    one connection
DELETE /<id>                    disconnect: revoke at the platform, wipe the tokens, keep the row
POST   /blotato/accounts        {"api_key"?} the TikTok accounts in this Blotato account, to choose from
POST   /blotato                 {"api_key"?, "account_id"?} connect TikTok through Blotato
"""

from __future__ import annotations

from shared.api.dispatch import Call, dispatch
from shared.api.requests import BlotatoConnect, BlotatoKey
from shared.connections import service
from shared.connections.errors import blotato_key_as_input
from shared.db import database
from shared.publishing.wiring import enqueue_targets


def _blotato_accounts(call: Call) -> object:
    with blotato_key_as_input():
        return {"accounts": service.blotato_accounts(call.body(BlotatoKey).api_key)}


def _connect_blotato(call: Call) -> object:
    body = call.body(BlotatoConnect)
    with blotato_key_as_input():
        result = service.connect_blotato(database(), call.user.id, api_key=body.api_key, account_id=body.account_id,
                                         on_targets_resumed=enqueue_targets)
    return {"platform": "blotato", "connection_ids": result.connection_ids,
            "resumed_target_ids": result.resumed_target_ids}


connections = dispatch("connections", {
    "GET /connections": lambda call: {"connections": service.list_connections(database(), call.user.claims)},
    "GET /connections/{connection_id}": lambda call: service.get_connection(
        database(), call.user.claims, call.params["connection_id"]),
    "DELETE /connections/{connection_id}": lambda call: service.disconnect(
        database(), call.user.claims, call.params["connection_id"]),
    "POST /connections/blotato/accounts": _blotato_accounts,
    "POST /connections/blotato": _connect_blotato,
})
