"""The OAuth mechanism, written once, next to the platform contract; a platform's provider is mostly data.

A provider (`shared/platforms/<key>/oauth.py`) subclasses `OAuthProvider` and sets
class constants: paths of the authorize/token/revoke endpoints, default scopes and
their separator, whether it uses PKCE, extra authorize parameters, how a refresh
is due. It overrides only what is truly its own: reading the profile, and for
some platforms a second token exchange (Instagram long-lived tokens, Facebook
Page tokens). Blotato is connected by API key instead (`ApiKeyProvider`).

Every platform answer is classified here, once: network failures, 429 and 5xx are
`TransientError` (try again later, never a reason to drop a connection); codes that
mean the grant is gone are `AuthError`: RFC 6749's `invalid_grant`, and whatever the
platform's own error table (`ERRORS`, the one publishing uses) classifies as auth
(Graph code 190, TikTok `access_token_invalid`, Google `invalid_rapt`); a token
endpoint refusing *our app* (`invalid_client`, `unauthorized_client`, a 401 without a
grant error) is `OAuthClientRejected`: our credentials are wrong, the user's grant is
fine, so it keeps every connection, mails no one and logs `oauth_client_rejected` at
ERROR naming the settings to fix. Anything else is `PermanentError`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from shared.config import load
from shared.log import get_logger
from shared.platforms import messages
from shared.platforms.errors import AuthError, PermanentError, TransientError

log = get_logger(__name__)


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TokenSet:
    """Tokens as a platform answered them. Lifetimes are the platform's own, in seconds."""

    access_token: str
    refresh_token: str | None = None
    expires_in: float | None = None
    # When the user must reconnect at the latest (TikTok's refresh token lifetime,
    # Instagram's long-lived token lifetime, Facebook's user token lifetime).
    refresh_expires_in: float | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)   # non-secret ids (open_id, user_id)

    def access_expires_at(self, now: datetime) -> datetime | None:
        return now + timedelta(seconds=self.expires_in) if self.expires_in else None

    def refresh_expires_at(self, now: datetime) -> datetime | None:
        return now + timedelta(seconds=self.refresh_expires_in) if self.refresh_expires_in else None

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"


@dataclass(frozen=True)
class Profile:
    platform_account_id: str
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    account_type: str | None = None
    follower_count: int | None = None
    account_info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectedAccount:
    """One account to store as a connection: who it is and the tokens to keep for it."""

    profile: Profile
    tokens: TokenSet


@dataclass(frozen=True)
class StoredTokens:
    access_token: str | None
    refresh_token: str | None


# ------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class OAuthApp:
    """What the OAuth mechanism needs of a platform's settings: our app's credentials and hosts.

    Each provider builds it from its platform's one settings class (`oauth_app`), so
    every setting has one env name and is read in one place.
    """

    client_id: str
    client_secret: str
    auth_base: str      # the consent page's host
    token_base: str     # the token (and revoke) endpoint's host
    api_base: str       # where the profile is read


def secret_text(value: SecretStr | str | None) -> str:
    """A setting that may be a SecretStr, as plain text ("" when unset)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or ""


# ------------------------------------------------------------------------ errors


class AccountProblem(Exception):
    """A connect that cannot go on for a reason of the account or the setup, with a sentence for the user.

    Raised by providers; the connection flow answers it as its own error of the same name
    (shared/connections/flow.py), so the platform packages never import the connection flow.
    """

    code = "connection_error"

    def __init__(self, user_message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        if code:
            self.code = code
        self.detail = detail


class AccountNotEligible(AccountProblem):
    """The account exists but cannot publish here (personal Instagram, no channel, no Page)."""

    code = "account_not_eligible"


class ChooseAccount(AccountProblem):
    """Several accounts fit; the user must pick one (`detail` lists them)."""

    code = "choose_account"


class NotConfigured(AccountProblem):
    """Our app's credentials for the platform are not set on this server."""

    code = "provider_not_configured"


# Calls made to the platform's token endpoint with our client credentials.
TOKEN_ENDPOINT_OPERATIONS = frozenset({"token", "refresh", "long_lived", "revoke"})
# RFC 6749 section 5.2: the client (our app), not the grant, failed authentication.
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class OAuthClientRejected(TransientError):
    """The platform refused our app's credentials: an operator must fix a setting.

    Transient for users and connections (nothing is expired, nobody is mailed;
    refreshes and publishes retry and succeed once the setting is fixed).
    """

    def __init__(self, *, platform: str, name: str, code: str, settings: tuple[str, ...], operation: str,
                 detail: Any = None, status: int | None = None) -> None:
        super().__init__(messages.unavailable(name), platform=platform, code=code, detail=detail, status=status)
        self.settings = settings
        self.operation = operation


# ------------------------------------------------------------------------ providers


class Provider:
    """Anything a user connects; its platform's descriptor (shared/platforms/<key>/__init__.py) names it."""

    key: ClassVar[str]
    # How users name the platform in connection sentences: "YouTube" (the publisher's is "YouTube Shorts").
    display_name: ClassVar[str]
    kind: ClassVar[str] = "oauth"            # or "api_key"
    # The platform's own settings class (shared/platforms/<key>/settings.py).
    SETTINGS: ClassVar[type[BaseSettings]]
    # Refresh once this share of the access token's lifetime has passed.
    REFRESH_AFTER_FRACTION: ClassVar[float] = 0.75
    # Some platforms refuse to refresh young tokens (Instagram: 24 h).
    MIN_AGE_FOR_REFRESH_S: ClassVar[float] = 0.0
    # After the reconnect-by time passes, do the stored credentials stop working?
    # (Facebook Page tokens do not; TikTok and Instagram tokens do.)
    DIES_AT_RECONNECT_BY: ClassVar[bool] = True

    def __init__(self, settings: BaseSettings | None = None, http: httpx.Client | None = None) -> None:
        self.settings: Any = settings or load(self.SETTINGS)
        self.http = http or httpx.Client(timeout=httpx.Timeout(20.0), follow_redirects=False)

    # -- calls, with the one classification of failures
    def call(self, method: str, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("platform call failed", platform=self.key, operation=operation, error=type(exc).__name__)
            raise TransientError(messages.unavailable(self.display_name), platform=self.key,
                                 code="network", detail=type(exc).__name__) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(messages.unavailable(self.display_name), platform=self.key,
                                 code=f"http_{response.status_code}", detail=_short(response),
                                 status=response.status_code)
        return response

    def call_json(self, method: str, url: str, *, operation: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, url, operation=operation, **kwargs)
        body = _json(response)
        if response.status_code >= 400 or self.is_error_body(body):
            raise self.classify(response, body, operation)
        return body

    def is_error_body(self, body: Mapping[str, Any]) -> bool:
        """Errors some platforms send with HTTP 200 (TikTok's error.code != "ok")."""
        return False

    def error_code(self, body: Mapping[str, Any]) -> str:
        error = body.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, Mapping):
            return str(error.get("code") or error.get("status") or "")
        return ""

    # The platform's error table (its errors.py): `error_class(code)` classifies OAuth answers
    # as it classifies publishing answers, so a code means the same on both paths.
    ERRORS: ClassVar[Any]
    # Error codes meaning the token endpoint refused our app (checked on token-endpoint calls only).
    CLIENT_REJECTED_CODES: ClassVar[frozenset[str]] = CLIENT_ERRORS
    # The settings fields holding our app's credentials (named in the operator's log line).
    CLIENT_SETTINGS: ClassVar[tuple[str, ...]] = ()

    def client_rejected(self, response: httpx.Response, body: Mapping[str, Any], code: str) -> bool:
        """At the token endpoint: did the platform refuse our app rather than the user's grant?"""
        if self.grant_gone(code):
            return False
        return code in self.CLIENT_REJECTED_CODES or response.status_code == 401

    def grant_gone(self, code: str) -> bool:
        """The grant is revoked or expired (the user must reconnect): RFC 6749's `invalid_grant`,
        or what the platform's error table classifies as an `AuthError`."""
        if code == "invalid_grant":
            return True
        error_class = self.ERRORS.error_class(code)
        return error_class is not None and issubclass(error_class, AuthError)

    def setting_names(self) -> tuple[str, ...]:
        """Environment names of our app's credentials, e.g. ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET")."""
        prefix = str(self.SETTINGS.model_config.get("env_prefix") or "")
        names = []
        for field_name in self.CLIENT_SETTINGS:
            alias = self.SETTINGS.model_fields[field_name].validation_alias
            names.append(alias.upper() if isinstance(alias, str) else f"{prefix}{field_name}".upper())
        return tuple(names)

    def classify(self, response: httpx.Response, body: Mapping[str, Any], operation: str) -> Exception:
        code = self.error_code(body) or f"http_{response.status_code}"
        detail = _short(response)
        if operation in TOKEN_ENDPOINT_OPERATIONS and self.client_rejected(response, body, code):
            settings = self.setting_names()
            # One stable event name: the operator's alert is built on it (docs/connections.md).
            log.error("oauth_client_rejected", platform=self.key, operation=operation, error_code=code,
                      http_status=response.status_code, settings=list(settings),
                      hint=f"{self.key} refused our app's credentials; check {' and '.join(settings)}")
            return OAuthClientRejected(platform=self.key, name=self.display_name, code=code, settings=settings,
                                       operation=operation, detail=detail, status=response.status_code)
        log.warning("platform refused", platform=self.key, operation=operation, code=code,
                    status=response.status_code)
        if self.grant_gone(code) or response.status_code == 401:
            return AuthError(messages.connection_expired(self.display_name), platform=self.key, code=code,
                             detail=detail, status=response.status_code)
        return PermanentError(messages.sign_in_refused(self.display_name), platform=self.key, code=code,
                              detail=detail, status=response.status_code)


class OAuthProvider(Provider):
    AUTHORIZATION_PATH: ClassVar[str]
    TOKEN_PATH: ClassVar[str]
    REVOKE_PATH: ClassVar[str | None] = None
    DEFAULT_SCOPES: ClassVar[tuple[str, ...]] = ()
    SCOPE_SEPARATOR: ClassVar[str] = " "
    USES_PKCE: ClassVar[bool] = False
    EXTRA_AUTH_PARAMS: ClassVar[Mapping[str, str]] = {}
    CLIENT_ID_PARAM: ClassVar[str] = "client_id"
    # Whether the platform's refresh grant exists (Facebook user tokens have none).
    CAN_REFRESH: ClassVar[bool] = True

    def __init__(self, settings: BaseSettings | None = None, http: httpx.Client | None = None) -> None:
        super().__init__(settings, http)
        self.app = self.oauth_app()

    def oauth_app(self) -> OAuthApp:
        """Map the platform's settings to what the OAuth mechanism needs."""
        raise TypeError(f"{type(self).__name__} does not say where its OAuth app settings are")

    def require_app_credentials(self) -> None:
        if not self.app.client_id or not self.app.client_secret:
            raise NotConfigured(messages.not_configured(self.display_name))

    # -- authorize
    def authorization_url(self, *, state: str, redirect_uri: str, code_verifier: str | None) -> str:
        self.require_app_credentials()
        params: dict[str, str] = {
            self.CLIENT_ID_PARAM: self.app.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self.SCOPE_SEPARATOR.join(self.DEFAULT_SCOPES),
            "state": state,
            **self.EXTRA_AUTH_PARAMS,
        }
        if self.USES_PKCE and code_verifier:
            params["code_challenge"] = pkce_challenge(code_verifier)
            params["code_challenge_method"] = "S256"
        return f"{self.app.auth_base.rstrip('/')}{self.AUTHORIZATION_PATH}?{urlencode(params)}"

    # -- token endpoint
    def token_url(self) -> str:
        return f"{self.app.token_base.rstrip('/')}{self.TOKEN_PATH}"

    def client_fields(self) -> dict[str, str]:
        return {self.CLIENT_ID_PARAM: self.app.client_id, "client_secret": self.app.client_secret}

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        self.require_app_credentials()
        form = {**self.client_fields(), "grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri}
        if self.USES_PKCE and code_verifier:
            form["code_verifier"] = code_verifier
        body = self.call_json("POST", self.token_url(), operation="token", data=form)
        return self.token_set(body)

    def refresh(self, stored: StoredTokens) -> TokenSet:
        """New tokens from the stored ones. Keeps the old refresh token if none came back."""
        if not stored.refresh_token:
            raise AuthError(messages.connection_expired(self.display_name), platform=self.key, code="no_refresh_token")
        form = {**self.client_fields(), "grant_type": "refresh_token", "refresh_token": stored.refresh_token}
        body = self.call_json("POST", self.token_url(), operation="refresh", data=form)
        tokens = self.token_set(body)
        if not tokens.refresh_token:
            # Google sends no new refresh token on refresh: the old one stays valid.
            tokens = _replace(tokens, refresh_token=stored.refresh_token)
        return tokens

    def revoke(self, stored: StoredTokens) -> bool:
        """End the user's grant at the platform; False when there is no revoke call to make."""
        if not self.REVOKE_PATH:
            return False
        token = stored.refresh_token or stored.access_token
        if not token:
            return False
        self.call_json("POST", f"{self.app.token_base.rstrip('/')}{self.REVOKE_PATH}",
                       operation="revoke", data={**self.client_fields(), "token": token})
        return True

    def token_set(self, body: Mapping[str, Any]) -> TokenSet:
        access = body.get("access_token")
        if not access:
            raise PermanentError(messages.sign_in_refused(self.display_name), platform=self.key, code="no_access_token")
        scope = body.get("scope") or ""
        scopes = tuple(s for s in str(scope).replace(",", " ").split() if s) or self.DEFAULT_SCOPES
        return TokenSet(
            access_token=str(access),
            refresh_token=body.get("refresh_token") or None,
            expires_in=_number(body.get("expires_in")),
            refresh_expires_in=_number(body.get("refresh_expires_in")),
            scopes=scopes,
            extra={k: body[k] for k in ("open_id", "user_id", "id_token_sub") if k in body},
        )

    # -- who the user is
    def accounts(self, tokens: TokenSet) -> list[ConnectedAccount]:
        """The accounts this sign-in connects (one, except Facebook Pages)."""
        return [ConnectedAccount(self.profile(tokens), tokens)]

    def profile(self, tokens: TokenSet) -> Profile:
        """Who signed in. A provider overrides this, or `accounts` when one sign-in connects several."""
        raise TypeError(f"{type(self).__name__} overrides neither profile() nor accounts()")

    def api(self, path: str) -> str:
        return f"{self.app.api_base.rstrip('/')}{path}"


class ApiKeyProvider(Provider):
    """A platform connected with an API key the user pastes (Blotato), or the app's own key."""

    kind = "api_key"
    # How the catalog (GET /platforms) tells a client to connect it.
    CONNECT_NOTE: ClassVar[str] = ""

    def key_to_use(self, user_key: str | None) -> str:
        """The user's key, else the app's; raises `NotConfigured` when there is neither."""
        raise TypeError(f"{type(self).__name__} does not say which key to use")

    def choices(self, api_key: str | None) -> list[dict[str, Any]]:
        """The accounts this key may publish to, to choose from: [{id, username, name}]."""
        raise TypeError(f"{type(self).__name__} does not list accounts")

    def connect(self, own_key: str | None, account_id: str | None) -> Profile:
        """Check the key (the user's, else the app's) and return the account to publish to."""
        raise TypeError(f"{type(self).__name__} does not connect accounts")


# -------------------------------------------------------------------------- helpers


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"data": body}


def _short(response: httpx.Response) -> str:
    return response.text[:500]


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _replace(tokens: TokenSet, **changes: Any) -> TokenSet:
    return replace(tokens, **changes)
