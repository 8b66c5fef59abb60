"""What the Connections API does: list, disconnect, connect a platform by API key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.connections import messages, store
from shared.connections.access import AccountAccess
from shared.connections.errors import ConnectionNotFound
from shared.connections.flow import (
    ConnectResult,
    Reconnected,
    TargetsResumed,
    account_problems,
    save_connections,
    start_url,
)
from shared.db.database import Database
from shared.log import get_logger
from shared.platforms import ConnectionProviders
from shared.platforms.errors import PlatformError
from shared.platforms.oauth import ApiKeyProvider, ConnectedAccount, OAuthProvider, TokenSet
from shared.platforms.registry import registry
from shared.responses import Connection, ConnectionList

log = get_logger(__name__)


def list_connections(db: Database, claims: Mapping[str, Any], base_url: str) -> ConnectionList:
    """The signed-in user's connections (RLS decides), newest first, with a reconnect URL."""
    with db.user(claims) as conn:
        rows = conn.execute(
            f"select {store.PUBLIC_COLUMNS} from social_connections "  # noqa: S608 - constant column list
            "order by platform, created_at desc"
        ).fetchall()
    return ConnectionList(connections=[_public(dict(row), base_url) for row in rows])


def _public(row: dict[str, Any], base_url: str) -> Connection:
    """What the user sees of a connection; `base_url` (the functions') makes its `reconnect_url`."""
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    out["id"] = str(row["id"])
    out["user_id"] = str(row["user_id"])
    out["display_platform"] = messages.name(row["platform"])
    out["reconnect_url"] = start_url(row["platform"], base_url)
    if row["status"] == "expired":
        out["user_message"] = messages.reconnect_needed(row["platform"])
    elif row["status"] == "disconnected":
        out["user_message"] = messages.disconnected(row["platform"])
    else:
        out["user_message"] = None
    return Connection.model_validate(out)


def get_connection(db: Database, claims: Mapping[str, Any], connection_id: str, base_url: str) -> Connection:
    with db.user(claims) as conn:
        try:
            row = conn.execute(
                f"select {store.PUBLIC_COLUMNS} from social_connections where id = %s",  # noqa: S608
                (connection_id,),
            ).fetchone()
        except Exception as exc:
            if type(exc).__name__ == "InvalidTextRepresentation":
                raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND) from None
            raise
    if row is None:
        raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND)
    return _public(dict(row), base_url)


def disconnect(db: Database, access: AccountAccess, claims: Mapping[str, Any], connection_id: str,
               base_url: str) -> Connection:
    """Revoke at the platform (where it can), wipe the ciphertexts, keep the row for history."""
    get_connection(db, claims, connection_id, base_url)  # the user's own, or not found (RLS)
    user_id = str(claims["sub"])
    with db.service() as conn:
        row = conn.execute("select * from social_connections where id = %s and user_id = %s for update",
                           (connection_id, user_id)).fetchone()
        if row is None:
            raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND)
        if row["status"] != "disconnected":
            _revoke(conn, access, dict(row))
        conn.execute(
            "update social_connections set status = 'disconnected', status_reason = 'disconnected_by_user', "
            "access_token_ciphertext = null, refresh_token_ciphertext = null, "
            "access_token_expires_at = null, refresh_token_expires_at = null where id = %s",
            (connection_id,),
        )
    log.info("disconnected", connection_id=connection_id, platform=row["platform"])
    return get_connection(db, claims, connection_id, base_url)


def _revoke(conn: Any, access: AccountAccess, row: dict[str, Any]) -> None:
    oauth = access.providers(row["platform"])
    if not isinstance(oauth, OAuthProvider):
        return
    if _other_accounts_share_grant(conn, row):
        return  # revoking the user's grant would cut the other accounts (Facebook Pages) too
    try:
        oauth.revoke(store.stored_tokens(access.vault, row))
    except PlatformError as exc:
        # Disconnecting must work even if the platform is down or the grant already gone.
        log.warning("revoke failed; disconnecting anyway", **exc.log_fields())


def _other_accounts_share_grant(conn: Any, row: dict[str, Any]) -> bool:
    """Whether another connected account of the same sign-in still uses the grant (its descriptor says which field)."""
    described = registry().get(row["platform"])
    field = described.shared_grant_field if described else None
    if field is None:
        return False
    other = conn.execute(
        "select 1 from social_connections where user_id = %s and platform = %s and id <> %s "
        "and status = 'connected' and account_info ->> %s = %s limit 1",
        (row["user_id"], row["platform"], row["id"], field, (row["account_info"] or {}).get(field)),
    ).fetchone()
    return other is not None


# ------------------------------------------------------------------------------ API keys


def _api_key_provider(platform: str, providers: ConnectionProviders) -> ApiKeyProvider:
    found = providers(platform)
    assert isinstance(found, ApiKeyProvider), platform
    return found


def api_key_accounts(providers: ConnectionProviders, platform: str, api_key: str | None) -> list[dict[str, Any]]:
    """The accounts an API key may publish to (Blotato: the TikTok accounts connected inside it)."""
    with account_problems():
        return _api_key_provider(platform, providers).choices(api_key)


def connect_api_key(
    db: Database, access: AccountAccess, user_id: str, platform: str, *, api_key: str | None = None,
    account_id: str | None = None,
    now: datetime, on_targets_resumed: TargetsResumed | None = None,
    on_reconnected: Reconnected | None = None,
) -> ConnectResult:
    """Check the key, pick the account, store the key encrypted (purpose "api_key").

    Without a key of the user's own the app's key (e.g. BLOTATO_API_KEY) is used and
    nothing secret is stored for the user.
    """
    own_key = (api_key or "").strip() or None
    with account_problems():
        profile = _api_key_provider(platform, access.providers).connect(own_key, account_id)
    tokens = TokenSet(access_token=own_key or "")
    result = ConnectResult(platform=platform, user_id=user_id)
    save_connections(db, access.vault, user_id, platform, [ConnectedAccount(profile, tokens)], result, now,
                     on_targets_resumed, access_purpose="api_key", on_reconnected=on_reconnected)
    return result
