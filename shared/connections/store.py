"""Rows of `social_connections`: saving tokens encrypted, expiring.

Tokens only ever reach the database as vault ciphertexts bound to (user, platform,
purpose). A stored refresh token is never replaced by an empty one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from shared.connections.mails import enqueue_expired_mail
from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.platforms.oauth import ConnectedAccount, StoredTokens

if TYPE_CHECKING:
    from shared.connections.vault import TokenVault

log = get_logger(__name__)

# What a user may read about their connections (never the ciphertexts).
PUBLIC_COLUMNS = (
    "id, user_id, platform, platform_account_id, username, display_name, avatar_url, account_type, "
    "follower_count, account_info, scopes, access_token_expires_at, refresh_token_expires_at, status, "
    "status_reason, last_refreshed_at, created_at, updated_at"
)


@contextmanager
def service_conn(target: Database | Conn) -> Iterator[Conn]:
    """A service transaction, or the caller's own connection when it already has one."""
    if isinstance(target, Database):
        with target.service() as conn:
            yield conn
    else:
        yield target


def encrypt(vault: TokenVault, value: str, *, user_id: str, platform: str, purpose: str) -> bytes:
    return bytes(vault.encrypt(value, user_id=user_id, platform=platform, purpose=purpose))


def decrypt(vault: TokenVault, ciphertext: bytes | memoryview | None, *, user_id: str, platform: str,
            purpose: str) -> str | None:
    if ciphertext is None:
        return None
    return str(vault.decrypt(bytes(ciphertext), user_id=user_id, platform=platform, purpose=purpose))


def stored_tokens(vault: TokenVault, row: dict[str, Any]) -> StoredTokens:
    """A connection row's OAuth tokens, decrypted (for refresh and revoke)."""
    who = {"user_id": str(row["user_id"]), "platform": row["platform"]}
    return StoredTokens(
        access_token=decrypt(vault, row["access_token_ciphertext"], purpose="access_token", **who),
        refresh_token=decrypt(vault, row["refresh_token_ciphertext"], purpose="refresh_token", **who),
    )


def save_account(
    conn: Conn, vault: TokenVault, *, user_id: str, platform: str, account: ConnectedAccount, now: datetime,
    access_purpose: str = "access_token",
) -> tuple[str, bool]:
    """Insert or refresh a connection; returns (connection id, whether it existed before)."""
    tokens, profile = account.tokens, account.profile
    access_ct = (encrypt(vault, tokens.access_token, user_id=user_id, platform=platform, purpose=access_purpose)
                 if tokens.access_token else None)
    refresh_ct = (encrypt(vault, tokens.refresh_token, user_id=user_id, platform=platform, purpose="refresh_token")
                  if tokens.refresh_token else None)
    row = conn.execute(
        """
        insert into social_connections as c
          (user_id, platform, platform_account_id, username, display_name, avatar_url, account_type,
           follower_count, account_info, scopes, access_token_ciphertext, refresh_token_ciphertext,
           access_token_expires_at, refresh_token_expires_at, status, status_reason, last_refreshed_at,
           expiry_warning_sent_for)
        values (%(user_id)s, %(platform)s, %(account_id)s, %(username)s, %(display_name)s, %(avatar_url)s,
                %(account_type)s, %(follower_count)s, %(account_info)s, %(scopes)s, %(access_ct)s, %(refresh_ct)s,
                %(access_exp)s, %(refresh_exp)s, 'connected', null, %(now)s, null)
        on conflict (user_id, platform, platform_account_id) do update set
          username = excluded.username, display_name = excluded.display_name,
          avatar_url = excluded.avatar_url, account_type = excluded.account_type,
          follower_count = excluded.follower_count, account_info = excluded.account_info,
          scopes = excluded.scopes,
          access_token_ciphertext = excluded.access_token_ciphertext,
          refresh_token_ciphertext = coalesce(excluded.refresh_token_ciphertext, c.refresh_token_ciphertext),
          access_token_expires_at = excluded.access_token_expires_at,
          refresh_token_expires_at = excluded.refresh_token_expires_at,
          status = 'connected', status_reason = null, last_refreshed_at = excluded.last_refreshed_at,
          expiry_warning_sent_for = null
        returning id, (xmax <> 0) as existed
        """,
        {
            "user_id": user_id, "platform": platform, "account_id": profile.platform_account_id,
            "username": profile.username, "display_name": profile.display_name,
            "avatar_url": profile.avatar_url, "account_type": profile.account_type,
            "follower_count": profile.follower_count, "account_info": Jsonb(dict(profile.account_info)),
            "scopes": list(tokens.scopes), "access_ct": access_ct, "refresh_ct": refresh_ct,
            "access_exp": tokens.access_expires_at(now), "refresh_exp": tokens.refresh_expires_at(now),
            "now": now,
        },
    ).fetchone()
    assert row is not None
    return str(row["id"]), bool(row["existed"])


def mark_expired(target: Database | Conn, connection_id: str, reason: str) -> bool:
    """Connected -> expired, with one mail to the user. Only for errors known to mean revoked/expired.

    Returns False when the connection was not connected (already expired, say), so a
    second report of the same failure sends no second mail.
    """
    with service_conn(target) as conn:
        row = conn.execute(
            "update social_connections set status = 'expired', status_reason = %s "
            "where id = %s and status = 'connected' returning *",
            (reason[:200], connection_id),
        ).fetchone()
        if row is None:
            return False
        log.info("connection expired", connection_id=connection_id, platform=row["platform"], reason=reason)
        enqueue_expired_mail(conn, row)
        return True
