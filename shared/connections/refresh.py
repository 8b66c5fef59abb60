"""Keeping tokens alive: the scheduler's refresh pass and credentials for the publisher.

When a refresh is due comes from the token responses' own lifetimes: a provider
refreshes once `REFRESH_AFTER_FRACTION` of the access token's life (from
`last_refreshed_at` to `access_token_expires_at`) has passed, and not before
`MIN_AGE_FOR_REFRESH_S` (Instagram: 24 h). Each refresh runs under the row lock,
re-checking that it is still due, so concurrent ticks refresh a token once -
which matters for TikTok, whose refresh tokens rotate.

A connection is marked expired only when the platform says the grant is gone
(`AuthError`: invalid_grant, Graph 190, TikTok access_token_invalid). Network
failures and 5xx leave it connected; the next tick tries again. When the token
endpoint refuses our own app (`OAuthClientRejected`: a wrong or rotated client
secret), every connection stays connected and nobody is mailed: the pass stops
asking that platform until the next tick, and the ERROR `oauth_client_rejected`
names the setting to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.connections import messages, store
from shared.connections.errors import ConnectionNotFound
from shared.connections.store import mark_expired
from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.platforms import providers
from shared.platforms.base import Credentials
from shared.platforms.errors import AuthError, PlatformError, TransientError
from shared.platforms.oauth import (
    ApiKeyProvider,
    OAuthClientRejected,
    OAuthProvider,
    Provider,
)

if TYPE_CHECKING:
    from shared.connections.access import AccountAccess
    from shared.connections.vault import TokenVault

log = get_logger(__name__)

__all__ = ["RefreshSummary", "credentials_for", "mark_expired", "refresh_due"]

# On-demand refresh for the publisher when the access token has less than this left.
PUBLISH_MARGIN = timedelta(minutes=5)


@dataclass
class RefreshSummary:
    refreshed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)      # left connected, retried next tick
    client_rejected: list[str] = field(default_factory=list)   # platforms that refused our app's credentials

    def as_dict(self) -> dict[str, int]:
        return {"refreshed": len(self.refreshed), "expired": len(self.expired), "failed": len(self.failed),
                "client_rejected": len(self.client_rejected)}


def _due_clause(cls: type[Provider]) -> str:
    fraction = float(cls.REFRESH_AFTER_FRACTION)
    min_age = float(cls.MIN_AGE_FOR_REFRESH_S)
    # The lifetime comes from what the platform said, captured at the last store.
    return (
        "status = 'connected' and platform = %(platform)s and access_token_expires_at is not null "
        "and (access_token_ciphertext is not null) "
        f"and %(now)s >= coalesce(last_refreshed_at, created_at) "
        f"   + (access_token_expires_at - coalesce(last_refreshed_at, created_at)) * {fraction} "
        f"and %(now)s >= coalesce(last_refreshed_at, created_at) + interval '{min_age} seconds'"
    )


def _refreshable() -> dict[str, type[OAuthProvider]]:
    return {k: c for k, c in providers().items() if issubclass(c, OAuthProvider) and c.CAN_REFRESH}


def refresh_due(db: Database, access: AccountAccess, now: datetime, *, limit: int = 200) -> RefreshSummary:
    """Refresh every connection whose token is due; the scheduler tick calls this every minute."""
    summary = RefreshSummary()
    for key, cls in _refreshable().items():
        with db.service() as conn:
            ids = [str(r["id"]) for r in conn.execute(
                f"select id from social_connections where {_due_clause(cls)} "  # noqa: S608 - constants only
                "order by access_token_expires_at limit %(limit)s",
                {"platform": key, "now": now, "limit": limit},
            ).fetchall()]
        oauth = access.providers(key)
        for connection_id in ids:
            _refresh_one(db, access.vault, oauth, cls, connection_id, now, summary)
            if key in summary.client_rejected:
                # Every other refresh would be refused the same way; they stay due for the next tick.
                summary.failed.extend(i for i in ids[ids.index(connection_id) + 1:])
                break
    if summary.refreshed or summary.expired or summary.failed:
        log.info("token refresh pass", **summary.as_dict())
    return summary


def _refresh_one(db: Database, vault: TokenVault, oauth: Provider, cls: type[Provider], connection_id: str,
                 now: datetime, summary: RefreshSummary) -> None:
    assert isinstance(oauth, OAuthProvider)
    with db.service() as conn:
        row = conn.execute(
            f"select * from social_connections where id = %(id)s and {_due_clause(cls)} "  # noqa: S608
            "for update skip locked",
            {"id": connection_id, "platform": cls.key, "now": now},
        ).fetchone()
        if row is None:  # another tick holds it, or already refreshed it
            return
        try:
            _refresh_locked(conn, vault, oauth, row, now)
        except AuthError as exc:
            mark_expired(conn, connection_id, exc.code or "revoked")
            summary.expired.append(connection_id)
            return
        except OAuthClientRejected:
            # Our credentials, not the user's grant (logged as oauth_client_rejected by the provider).
            summary.failed.append(connection_id)
            summary.client_rejected.append(cls.key)
            return
        except PlatformError as exc:
            # Not known to mean "revoked": keep the connection; the next tick retries.
            log.warning("token refresh failed", connection_id=connection_id,
                        **exc.log_fields())
            summary.failed.append(connection_id)
            return
        except Exception as exc:
            # One bad row (say, a ciphertext from a retired vault key) must not stop the pass.
            log.error("token refresh broke", connection_id=connection_id, platform=cls.key,
                      error=type(exc).__name__)
            summary.failed.append(connection_id)
            return
        summary.refreshed.append(connection_id)


def _refresh_locked(conn: Conn, vault: TokenVault, oauth: OAuthProvider, row: dict[str, Any], now: datetime) -> str:
    """Refresh one locked row and store the result in the same transaction; returns the access token."""
    tokens = oauth.refresh(store.stored_tokens(vault, row))
    who = {"user_id": str(row["user_id"]), "platform": row["platform"]}
    access_ct = store.encrypt(vault, tokens.access_token, purpose="access_token", **who)
    # Rotation (TikTok): the new refresh token replaces the old one in this same update.
    # No refresh token in the answer: the stored one stays (never overwritten with nothing).
    refresh_ct = (store.encrypt(vault, tokens.refresh_token, purpose="refresh_token", **who)
                  if tokens.refresh_token else None)
    conn.execute(
        """
        update social_connections
           set access_token_ciphertext = %s,
               refresh_token_ciphertext = coalesce(%s, refresh_token_ciphertext),
               access_token_expires_at = %s,
               refresh_token_expires_at = coalesce(%s, refresh_token_expires_at),
               last_refreshed_at = %s, status_reason = null
         where id = %s
        """,
        (access_ct, refresh_ct, tokens.access_expires_at(now), tokens.refresh_expires_at(now), now, row["id"]),
    )
    log.info("token refreshed", connection_id=str(row["id"]), platform=row["platform"])
    return tokens.access_token


def credentials_for(
    db: Database, access: AccountAccess, connection_id: str, force_refresh: bool = False, *,
    now: datetime, user_id: str | None = None, row: Mapping[str, Any] | None = None,
) -> Credentials:
    """Decrypted, valid credentials for publishing; refreshes first when the token is about to expire.

    `user_id` restricts the lookup to that user's connections (calls made on a
    user's behalf). `row` is the connection already read by the caller (the publish
    worker reads it in its claim transaction; needs id, user_id, platform, status,
    access_token_ciphertext, access_token_expires_at, platform_account_id, username,
    account_info): it saves a transaction. A refresh always re-reads the row under its lock.
    Raises `ConnectionNotFound`, `AuthError` (the user must reconnect; the connection
    is marked expired) or `TransientError`.
    """
    if row is None or (user_id is not None and str(row["user_id"]) != user_id):
        row = _load(db, connection_id, user_id, lock=False)
    cls = providers()[row["platform"]]
    if row["status"] != "connected":
        raise AuthError(messages.reconnect_needed(row["platform"]) if row["status"] == "expired"
                        else messages.disconnected(row["platform"]),
                        platform=row["platform"], code=f"connection_{row['status']}")
    expiring = row["access_token_expires_at"] is not None and row["access_token_expires_at"] - now <= PUBLISH_MARGIN
    if issubclass(cls, OAuthProvider) and cls.CAN_REFRESH and (force_refresh or expiring):
        return _credentials_after_refresh(db, access, connection_id, user_id, force_refresh, now)
    return _credentials(row, _access_token(row, access))


def _credentials_after_refresh(db: Database, access: AccountAccess, connection_id: str, user_id: str | None,
                               force: bool, now: datetime) -> Credentials:
    revoked: AuthError | None = None
    with db.service() as conn:
        row = _load_in(conn, connection_id, user_id, lock=True)
        expiring = (row["access_token_expires_at"] is not None
                    and row["access_token_expires_at"] - now <= PUBLISH_MARGIN)
        # Re-checked under the lock: a concurrent caller may have refreshed it meanwhile.
        recently = row["last_refreshed_at"] is not None and now - row["last_refreshed_at"] < timedelta(seconds=30)
        if row["status"] == "connected" and (expiring or (force and not recently)):
            oauth = access.providers(row["platform"])
            assert isinstance(oauth, OAuthProvider)
            try:
                token = _refresh_locked(conn, access.vault, oauth, row, now)
                return _credentials(row, token)
            except AuthError as exc:
                mark_expired(conn, connection_id, exc.code or "revoked")
                revoked = exc
            except TransientError:
                if row["access_token_expires_at"] is None or row["access_token_expires_at"] <= now:
                    raise
                log.warning("refresh failed; using the current token", connection_id=connection_id)
        elif row["status"] != "connected":
            raise AuthError(messages.reconnect_needed(row["platform"]), platform=row["platform"],
                            code=f"connection_{row['status']}")
        if revoked is None:
            return _credentials(row, _access_token(row, access))
    raise revoked


_ROW = "select * from social_connections where id = %s and (%s::uuid is null or user_id = %s::uuid)"
_LOCKED_ROW = _ROW + " for update"


def _load(db: Database, connection_id: str, user_id: str | None, *, lock: bool) -> dict[str, Any]:
    with db.service() as conn:
        return _load_in(conn, connection_id, user_id, lock=lock)


def _load_in(conn: Conn, connection_id: str, user_id: str | None, *, lock: bool) -> dict[str, Any]:
    params = (connection_id, user_id, user_id)
    try:
        row = conn.execute(_LOCKED_ROW if lock else _ROW, params).fetchone()
    except Exception as exc:  # a malformed id is "not found", not a crash
        if type(exc).__name__ in {"InvalidTextRepresentation", "DataError"}:
            raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND) from None
        raise
    if row is None:
        raise ConnectionNotFound(messages.CONNECTION_NOT_FOUND)
    return dict(row)


def _access_token(row: Mapping[str, Any], access: AccountAccess) -> str:
    uses_api_key = issubclass(providers()[row["platform"]], ApiKeyProvider)
    token = store.decrypt(access.vault, row["access_token_ciphertext"], user_id=str(row["user_id"]),
                          platform=row["platform"], purpose="api_key" if uses_api_key else "access_token")
    if token is None and uses_api_key:
        # No key of their own: publish through the app's key (Blotato's BLOTATO_API_KEY).
        api_keys = access.providers(row["platform"])
        assert isinstance(api_keys, ApiKeyProvider)
        token = api_keys.key_to_use(None)
    if token is None:
        raise AuthError(messages.reconnect_needed(row["platform"]), platform=row["platform"], code="no_token")
    return token


def _credentials(row: Mapping[str, Any], access_token: str) -> Credentials:
    return Credentials(access_token=access_token, account_id=row["platform_account_id"],
                      account_info=dict(row["account_info"] or {}), username=row["username"])
