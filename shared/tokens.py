"""Verifying Supabase access tokens against an explicit configuration (the application's is in shared/auth.py).

Supabase signs user access tokens either with the project's legacy HS256 secret
(SUPABASE_JWT_SECRET) or with asymmetric keys (ES256/RS256) published as a JWKS
(SUPABASE_JWKS_URL, or <SUPABASE_URL>/auth/v1/.well-known/jwks.json). The token's
header picks the path, but only among algorithms that are configured: an HS256
token is refused when only a JWKS is configured, `alg: none` is always refused,
and an RS256/ES256 token is checked only against a public key of the matching
type from the JWKS, so the HMAC secret can never act as a public key.

Every refusal is an `AuthenticationError` whose `reason` is a plain sentence the
HTTP layer returns with a 401. When the JWKS cannot be fetched, that is our
problem, not the user's: `SigningKeysUnavailable` is raised instead (not an
AuthenticationError, so nobody is signed out because of our outage).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from shared.config import ConfigError, CoreSettings
from shared.log import get_logger

log = get_logger(__name__)

LEEWAY_SECONDS = 10
JWKS_TTL_SECONDS = 600.0
JWKS_TIMEOUT_SECONDS = 5.0
# An unknown kid may mean the project rotated its key: refetch, but at most this
# often, so tokens with made-up kids cannot make us hammer the JWKS endpoint.
JWKS_REFETCH_COOLDOWN_SECONDS = 30.0
LOCAL_ISSUER = "http://127.0.0.1:54321/auth/v1"

# Each asymmetric algorithm and the only key type it may be verified with.
_ASYMMETRIC = {"ES256": "EC", "RS256": "RSA"}
_HMAC = "HS256"

EXPIRED = "Your session has expired. Please sign in again."
WRONG_AUDIENCE = "This token is not for this application."
WRONG_ISSUER = "This token was issued by a different sign-in service. Please sign in again."
BAD_SIGNATURE = "This sign-in token is not valid. Please sign in again."
MALFORMED = "This sign-in token is damaged or incomplete. Please sign in again."
NOT_YET_VALID = "This sign-in token is not valid yet. Check your device's clock and sign in again."
MISSING_CLAIM = "This sign-in token is missing required information. Please sign in again."
ALGORITHM_REFUSED = "This sign-in token was signed in a way this application does not accept."
UNKNOWN_KEY = "This sign-in token was signed with a key this application does not know. Please sign in again."
NO_USER = "This sign-in token does not identify a user. Please sign in again."
NOT_SIGNED_IN = "Please sign in with your account to continue."


class AuthenticationError(Exception):
    """The caller is not signed in with a valid token; `reason` is safe to show them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SigningKeysUnavailable(RuntimeError):
    """The Supabase JWKS could not be fetched; the request should fail as a server error."""


@dataclass(frozen=True)
class Claims:
    user_id: str
    email: str | None
    role: str
    # The verified claims, as `Database.user(claims.raw)` expects them.
    raw: dict[str, Any] = field(repr=False)


# ----------------------------------------------------------------------------- JWKS


class JwksCache:
    """The project's public keys, fetched with a timeout and kept for a TTL."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = JWKS_TTL_SECONDS,
        timeout: float = JWKS_TIMEOUT_SECONDS,
        refetch_cooldown: float = JWKS_REFETCH_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.timeout = timeout
        self.refetch_cooldown = refetch_cooldown
        self.clock = clock
        self.fetches = 0
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._forced_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> PyJWK | None:
        with self._lock:
            now = self.clock()
            if self._fetched_at is None or now - self._fetched_at >= self.ttl:
                self._fetch(now)
            found = self._keys.get(kid)
            if found is None and (self._forced_at is None or now - self._forced_at >= self.refetch_cooldown):
                self._forced_at = now
                self._fetch(now)
                found = self._keys.get(kid)
            return found

    def _fetch(self, now: float) -> None:
        self.fetches += 1
        try:
            response = httpx.get(self.url, timeout=self.timeout, follow_redirects=False)
            response.raise_for_status()
            key_set = PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.error("jwks fetch failed", url=self.url, error=type(exc).__name__)
            if self._fetched_at is not None:
                # Keep serving the keys we have; a blip at Supabase must not sign everyone out.
                return
            raise SigningKeysUnavailable("Could not fetch the Supabase signing keys.") from None
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
        self._fetched_at = now


# ----------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuthConfig:
    hs256_secret: str | None
    jwks: JwksCache | None
    audience: str
    issuer: str | None
    leeway: int = LEEWAY_SECONDS


def config_from_settings(settings: CoreSettings) -> AuthConfig:
    supabase_url = (settings.supabase_url or "").rstrip("/") or None
    jwks_url = settings.supabase_jwks_url or (f"{supabase_url}/auth/v1/.well-known/jwks.json" if supabase_url else None)
    issuer = settings.supabase_jwt_issuer or (f"{supabase_url}/auth/v1" if supabase_url else None)
    if not settings.supabase_jwt_secret and not jwks_url:
        raise ConfigError(
            "SUPABASE_JWT_SECRET or SUPABASE_URL (or SUPABASE_JWKS_URL) must be set to verify user sign-ins."
        )
    if settings.environment == "production" and not issuer:
        raise ConfigError("SUPABASE_URL or SUPABASE_JWT_ISSUER must be set in production to check who issued tokens.")
    return AuthConfig(
        hs256_secret=settings.supabase_jwt_secret or None,
        jwks=JwksCache(jwks_url) if jwks_url else None,
        audience=settings.supabase_jwt_audience,
        issuer=issuer,
    )


def verify_with(config: AuthConfig, token: str) -> Claims:
    """Verify a token against an explicit configuration (tests and `verify_access_token`)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthenticationError(MALFORMED) from None
    alg = header.get("alg")
    key: Any
    if alg == _HMAC and config.hs256_secret:
        key = config.hs256_secret
    elif alg in _ASYMMETRIC and config.jwks is not None:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError(UNKNOWN_KEY)
        jwk = config.jwks.key(kid)
        if jwk is None:
            raise AuthenticationError(UNKNOWN_KEY)
        if jwk.key_type != _ASYMMETRIC[alg]:
            raise AuthenticationError(ALGORITHM_REFUSED)
        key = jwk.key
    else:
        raise AuthenticationError(ALGORITHM_REFUSED)

    required = ["exp", "sub", "role", "aud"] + (["iss"] if config.issuer else [])
    try:
        raw = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway,
            options={"require": required, "verify_iss": config.issuer is not None},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError(EXPIRED) from None
    except jwt.InvalidAudienceError:
        raise AuthenticationError(WRONG_AUDIENCE) from None
    except jwt.InvalidIssuerError:
        raise AuthenticationError(WRONG_ISSUER) from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(NO_USER if exc.claim == "sub" else MISSING_CLAIM) from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationError(NOT_YET_VALID) from None
    except jwt.InvalidSignatureError:
        raise AuthenticationError(BAD_SIGNATURE) from None
    except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
        raise AuthenticationError(ALGORITHM_REFUSED) from None
    except jwt.PyJWTError:
        raise AuthenticationError(MALFORMED) from None

    if raw.get("role") != "authenticated":
        raise AuthenticationError(NOT_SIGNED_IN)
    try:
        user_id = str(uuid.UUID(str(raw["sub"])))
    except ValueError:
        raise AuthenticationError(NO_USER) from None
    email = raw.get("email")
    return Claims(user_id=user_id, email=email if isinstance(email, str) and email else None,
                  role="authenticated", raw=raw)
