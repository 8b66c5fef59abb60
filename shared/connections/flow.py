"""Connecting an account: start (authorization URL) and callback (code -> stored connection).

The `state` sent to the platform is random, single use, valid 10 minutes, bound
to the user and platform that started the flow, and stored only as a SHA-256
hash; the PKCE verifier next to it is vault-encrypted. The callback burns the
state before anything else, so a replayed callback is refused even if the first
one failed later on.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.connections import messages, store
from shared.connections.errors import (
    AccountNotEligible,
    ChooseAccount,
    ConnectionFlowError,
    ProviderNotConfigured,
    StateError,
)
from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.platforms import oauth
from shared.platforms.errors import AuthError, PlatformError
from shared.platforms.oauth import AccountProblem, ConnectedAccount, OAuthProvider
from shared.platforms.registry import registry

if TYPE_CHECKING:
    from shared.connections.access import AccountAccess
    from shared.connections.vault import TokenVault
    from shared.platforms import ConnectionProviders

log = get_logger(__name__)

STATE_TTL = timedelta(minutes=10)

TargetsResumed = Callable[[list[str]], None]
# Inside the transaction that saved a reconnected connection: put the targets parked for it back
# in the queue, returning their ids (publishing's `targets.resume_after_reconnect`).
Reconnected = Callable[[Conn, str], list[str]]


@dataclass
class ConnectResult:
    platform: str
    user_id: str
    connection_ids: list[str] = field(default_factory=list)
    reconnected_ids: list[str] = field(default_factory=list)
    resumed_target_ids: list[str] = field(default_factory=list)
    return_path: str | None = None


def redirect_uri(platform: str, base_url: str) -> str:
    """The callback URL registered with each platform (static, no query string); `base_url`: the functions'."""
    return f"{base_url.rstrip('/')}/oauth/callback/{platform}"


def start_url(platform: str, base_url: str) -> str:
    """The API URL that starts (or restarts) connecting a platform: the `reconnect_url`."""
    described = registry().get(platform)
    if described is not None and described.uses_api_key:
        return f"{base_url.rstrip('/')}/connections/{platform}"
    return f"{base_url.rstrip('/')}/oauth/start/{platform}"


# How the flow answers a provider's account problem (the same sentence, code and detail).
_FLOW_ERRORS: dict[type[AccountProblem], type[ConnectionFlowError]] = {
    oauth.AccountNotEligible: AccountNotEligible,
    oauth.ChooseAccount: ChooseAccount,
    oauth.NotConfigured: ProviderNotConfigured,
}


@contextmanager
def account_problems() -> Iterator[None]:
    """Providers' `AccountProblem`s leave as the connection flow's errors of the same name."""
    try:
        yield
    except AccountProblem as exc:
        flow_error = _FLOW_ERRORS.get(type(exc), ConnectionFlowError)
        raise flow_error(exc.user_message, code=exc.code, detail=exc.detail) from None


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _oauth_provider(platform: str, providers: ConnectionProviders) -> OAuthProvider:
    try:
        found = providers(platform)
    except KeyError:
        raise ConnectionFlowError(f"We cannot connect {platform!r}: unknown platform.",
                                  code="unknown_platform") from None
    if not isinstance(found, OAuthProvider):
        raise ConnectionFlowError(f"{messages.name(platform)} is connected with an API key, not a sign-in.",
                                  code="not_oauth")
    return found


def start_authorization(
    db: Database, access: AccountAccess, user_id: str, platform: str, *, now: datetime, base_url: str,
    return_path: str | None = None,
) -> str:
    """Create a single-use state for this user and return the platform's authorization URL."""
    signin = _oauth_provider(platform, access.providers)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if signin.USES_PKCE else None
    with account_problems():
        url = signin.authorization_url(state=state, redirect_uri=redirect_uri(platform, base_url),
                                       code_verifier=verifier)
    verifier_ct = (store.encrypt(access.vault, verifier, user_id=user_id, platform=platform, purpose="pkce")
                   if verifier else None)
    with db.service() as conn:
        conn.execute(
            "insert into oauth_states (user_id, platform, state_hash, code_verifier_ciphertext, redirect_to, "
            "expires_at) values (%s, %s, %s, %s, %s, %s)",
            (user_id, platform, _hash(state), verifier_ct, safe_return_path(return_path), now + STATE_TTL),
        )
        # Old states are useless; keep the table small.
        conn.execute("delete from oauth_states where expires_at < %s", (now - timedelta(days=1),))
    log.info("oauth started", platform=platform)
    return url


def safe_return_path(path: str | None) -> str | None:
    """Only a path inside the frontend: never another site (open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path[:500]


def _burn_state(db: Database, platform: str, state: str | None, expected_user_id: str | None,
                now: datetime) -> tuple[str, str | None, bytes | None]:
    if not state:
        raise StateError(messages.STATE_MISSING, code="state_missing")
    with db.service() as conn:
        row = conn.execute(
            "update oauth_states set used_at = %s where state_hash = %s and used_at is null returning *",
            (now, _hash(state)),
        ).fetchone()
        if row is None:
            seen = conn.execute("select 1 from oauth_states where state_hash = %s", (_hash(state),)).fetchone()
            raise StateError(messages.STATE_REUSED if seen else messages.STATE_UNKNOWN,
                             code="state_reused" if seen else "state_unknown")
    if row["platform"] != platform:
        raise StateError(messages.state_other_platform(platform), code="state_other_platform")
    if row["expires_at"] < now:
        raise StateError(messages.STATE_EXPIRED, code="state_expired")
    if expected_user_id is not None and str(row["user_id"]) != str(expected_user_id):
        raise StateError(messages.STATE_OTHER_USER, code="state_other_user")
    return str(row["user_id"]), row["redirect_to"], row["code_verifier_ciphertext"]


def complete_authorization(
    db: Database,
    access: AccountAccess,
    platform: str,
    *,
    code: str | None,
    state: str | None,
    error: str | None = None,
    expected_user_id: str | None = None,
    on_targets_resumed: TargetsResumed | None = None,
    now: datetime,
    base_url: str,
    on_reconnected: Reconnected | None = None,
) -> ConnectResult:
    """Verify and burn the state, exchange the code, read the profile, store the connection(s).

    Raises `ConnectionFlowError` (state problems, ineligible accounts) or
    `PlatformError` (the platform refused or is down), each with a user message.
    """
    signin = _oauth_provider(platform, access.providers)
    user_id, return_path, verifier_ct = _burn_state(db, platform, state, expected_user_id, now)
    result = ConnectResult(platform=platform, user_id=user_id, return_path=return_path)
    if error:
        raise ConnectionFlowError(messages.cancelled(platform) if error == "access_denied"
                                  else messages.platform_refused(platform), code=f"platform_{error}")
    if not code:
        raise ConnectionFlowError(messages.platform_refused(platform), code="code_missing")
    verifier = store.decrypt(access.vault, verifier_ct, user_id=user_id, platform=platform, purpose="pkce")
    try:
        with account_problems():
            tokens = signin.exchange_code(code=code, redirect_uri=redirect_uri(platform, base_url),
                                          code_verifier=verifier)
            accounts = signin.accounts(tokens)
    except AuthError as exc:
        # At sign-in, a refused grant (reused code, wrong verifier) means: start again.
        raise ConnectionFlowError(messages.platform_refused(platform), code=exc.code or "grant_refused",
                                  detail=exc.detail) from None
    save_connections(db, access.vault, user_id, platform, accounts, result, now, on_targets_resumed,
                     on_reconnected=on_reconnected)
    log.info("connected", platform=platform, connections=len(result.connection_ids),
             reconnected=len(result.reconnected_ids), resumed_targets=len(result.resumed_target_ids))
    return result


def save_connections(
    db: Database, vault: TokenVault, user_id: str, platform: str, accounts: list[ConnectedAccount],
    result: ConnectResult,
    now: datetime, on_targets_resumed: TargetsResumed | None, access_purpose: str = "access_token",
    on_reconnected: Reconnected | None = None,
) -> None:
    with db.service() as conn:
        for account in accounts:
            connection_id, existed = store.save_account(conn, vault, user_id=user_id, platform=platform,
                                                        account=account, now=now,
                                                        access_purpose=access_purpose)
            result.connection_ids.append(connection_id)
            if existed:
                result.reconnected_ids.append(connection_id)
                if on_reconnected is not None:
                    result.resumed_target_ids += on_reconnected(conn, connection_id)
    if result.resumed_target_ids and on_targets_resumed is not None:
        try:
            on_targets_resumed(result.resumed_target_ids)
        except Exception:  # the scheduler tick's safety net enqueues them anyway
            log.exception("enqueue after reconnect failed", targets=len(result.resumed_target_ids))


def user_message(exc: Exception, platform: str) -> str:
    """The sentence to show for anything a connect flow raised."""
    if isinstance(exc, ConnectionFlowError):
        return exc.user_message
    if isinstance(exc, PlatformError):
        return exc.user_message
    return messages.platform_refused(platform)
