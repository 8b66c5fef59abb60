"""What the Connections API does: list, disconnect, connect Blotato by API key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.connections import messages, store
from shared.connections.errors import ConnectionNotFound
from shared.connections.flow import ConnectResult, Reconnected, TargetsResumed, save_connections, start_url
from shared.connections.oauth import ConnectedAccount, OAuthProvider, StoredTokens, TokenSet, provider
from shared.db.database import Database
from shared.log import get_logger
from shared.platforms.errors import PlatformError

log = get_logger(__name__)


def list_connections(db: Database, claims: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The signed-in user's connections (RLS decides), newest first, with a reconnect URL."""
    with db.user(claims) as conn:
        rows = conn.execute(
            f"select {store.PUBLIC_COLUMNS} from social_connections "  # noqa: S608 - constant column list
            "order by platform, created_at desc"
        ).fetchall()
    return [_public(dict(row)) for row in rows]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    out["id"] = str(row["id"])
    out["user_id"] = str(row["user_id"])
    out["display_platform"] = messages.name(row["platform"])
    out["reconnect_url"] = start_url(row["platform"])
    if row["status"] == "expired":
        out["user_message"] = messages.reconnect_needed(row["platform"])
    elif row["status"] == "disconnected":
        out["user_message"] = messages.disconnected(row["platform"])
    else:
        out["user_message"] = None
    return out


def get_connection(db: Database, claims: Mapping[str, Any], connection_id: str) -> dict[str, Any]:
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
    return _public(dict(row))


def disconnect(db: Database, claims: Mapping[str, Any], connection_id: str) -> dict[str, Any]:
    """Revoke at the platform (where it can), wipe the ciphertexts, keep the row for history."""
    get_connection(db, claims, connection_id)  # the user's own, or not found (RLS)
    user_id = str(claims["sub"])
    with db.service() as conn:
        row = conn.execute("select * from social_connections where id = %s and user_id = %s for update",
                           (connection_id, user_id)).fetchone()
        if row is None:
            raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND)
        if row["status"] != "disconnected":
            _revoke(conn, dict(row))
        conn.execute(
            "update social_connections set status = 'disconnected', status_reason = 'disconnected_by_user', "
            "access_token_ciphertext = null, refresh_token_ciphertext = null, "
            "access_token_expires_at = null, refresh_token_expires_at = null where id = %s",
            (connection_id,),
        )
    log.info("disconnected", connection_id=connection_id, platform=row["platform"])
    return get_connection(db, claims, connection_id)


def _revoke(conn: Any, row: dict[str, Any]) -> None:
    oauth = provider(row["platform"])
    if not isinstance(oauth, OAuthProvider):
        return
    if row["platform"] == "facebook" and _other_pages_share_grant(conn, row):
        return  # revoking the user's grant would cut the other Pages too
    who = {"user_id": str(row["user_id"]), "platform": row["platform"]}
    try:
        stored = StoredTokens(
            access_token=store.decrypt(row["access_token_ciphertext"], purpose="access_token", **who),
            refresh_token=store.decrypt(row["refresh_token_ciphertext"], purpose="refresh_token", **who),
        )
        oauth.revoke(stored)
    except PlatformError as exc:
        # Disconnecting must work even if the platform is down or the grant already gone.
        log.warning("revoke failed; disconnecting anyway", **exc.log_fields())


def _other_pages_share_grant(conn: Any, row: dict[str, Any]) -> bool:
    fb_user = (row["account_info"] or {}).get("fb_user_id")
    other = conn.execute(
        "select 1 from social_connections where user_id = %s and platform = 'facebook' and id <> %s "
        "and status = 'connected' and account_info ->> 'fb_user_id' = %s limit 1",
        (row["user_id"], row["id"], fb_user),
    ).fetchone()
    return other is not None


# ------------------------------------------------------------------------------ Blotato


def blotato_accounts(api_key: str | None) -> list[dict[str, Any]]:
    """The TikTok accounts connected inside Blotato, to choose from."""
    from shared.platforms.blotato.oauth import BlotatoConnect

    blotato = BlotatoConnect()
    key = blotato.key_to_use(api_key)
    blotato.me(key)
    return [{"id": str(a["id"]), "username": a.get("username"), "name": a.get("fullname")}
            for a in blotato.tiktok_accounts(key)]


def connect_blotato(
    db: Database, user_id: str, *, api_key: str | None = None, account_id: str | None = None,
    on_targets_resumed: TargetsResumed | None = None, now: datetime | None = None,
    on_reconnected: Reconnected | None = None,
) -> ConnectResult:
    """Check the key, pick the TikTok account, store the key encrypted (purpose "api_key").

    Without a key of the user's own the app's key (BLOTATO_API_KEY) is used and
    nothing secret is stored for the user.
    """
    from shared.platforms.blotato.oauth import BlotatoConnect

    now = now or datetime.now(UTC)
    blotato = BlotatoConnect()
    own_key = (api_key or "").strip() or None
    key = blotato.key_to_use(own_key)
    profile = blotato.profile_for(key, account_id)
    info = {**profile.account_info, "uses_app_key": own_key is None}
    profile = type(profile)(**{**profile.__dict__, "account_info": info})
    tokens = TokenSet(access_token=own_key or "")
    result = ConnectResult(platform="blotato", user_id=user_id)
    save_connections(db, user_id, "blotato", [ConnectedAccount(profile, tokens)], result, now,
                     on_targets_resumed, access_purpose="api_key", on_reconnected=on_reconnected)
    return result
