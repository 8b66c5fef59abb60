"""The application's sign-in: verifying a request's access token with its keys, and minting local tokens.

The verification itself (keys, algorithms, the user's sentences) is shared/tokens.py, below the
composition root; this module reads the application's configuration, so it sits at the edge.
"""

from __future__ import annotations

import time
import uuid

import jwt

from shared.app import application
from shared.tokens import (
    _HMAC,
    ALGORITHM_REFUSED,
    BAD_SIGNATURE,
    EXPIRED,
    LOCAL_ISSUER,
    MALFORMED,
    MISSING_CLAIM,
    NO_USER,
    NOT_SIGNED_IN,
    NOT_YET_VALID,
    UNKNOWN_KEY,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
    AuthConfig,
    AuthenticationError,
    Claims,
    JwksCache,
    SigningKeysUnavailable,
    config_from_settings,
    verify_with,
)

__all__ = [
    "ALGORITHM_REFUSED", "BAD_SIGNATURE", "EXPIRED", "LOCAL_ISSUER", "MALFORMED", "MISSING_CLAIM", "NOT_SIGNED_IN",
    "NOT_YET_VALID", "NO_USER", "UNKNOWN_KEY", "WRONG_AUDIENCE", "WRONG_ISSUER", "AuthConfig", "AuthenticationError",
    "Claims", "JwksCache", "SigningKeysUnavailable", "config_from_settings", "mint_local_token",
    "verify_access_token", "verify_with",
]


def verify_access_token(token: str) -> Claims:
    """Verify a Supabase access token from the `Authorization: Bearer` header, with the application's keys."""
    return verify_with(application().auth, token)


# ----------------------------------------------------------------------------- local tokens


def mint_local_token(
    user_id: str,
    email: str | None,
    *,
    secret: str,
    ttl: int = 3600,
    issuer: str | None = None,
    audience: str = "authenticated",
) -> str:
    """An HS256 token shaped like Supabase's, for the local stack and tests."""
    if issuer is None:
        settings = application().settings
        supabase_url = (settings.supabase_url or "").rstrip("/")
        issuer = settings.supabase_jwt_issuer or (f"{supabase_url}/auth/v1" if supabase_url else LOCAL_ISSUER)
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": audience,
        "role": "authenticated",
        "email": email or "",
        "exp": now + ttl,
        "iat": now,
        "session_id": str(uuid.uuid4()),
        "aal": "aal1",
        "is_anonymous": False,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
    }
    return jwt.encode(claims, secret, algorithm=_HMAC)
