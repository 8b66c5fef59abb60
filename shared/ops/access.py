"""Who may read the operator's numbers: whoever holds the Supabase service-role key.

Accepted: the project's service-role key itself (compared in constant time; works for
the legacy JWT keys and the newer `sb_secret_...` keys alike), or any token signed with
SUPABASE_JWT_SECRET whose role is `service_role` (what the legacy key is, and what
`shortpub ops` mints on the local stack).
"""

from __future__ import annotations

import hmac
import time

from shared.config import load
from shared.errors import Forbidden, Unauthenticated
from shared.storage.settings import StorageSettings

SERVICE_ROLE = "service_role"


def require_service_role(authorization: str, jwt_secret: str | None) -> None:
    """Raise Unauthenticated (401) or Forbidden (403) unless the Authorization header carries the service role.

    `jwt_secret` is the project's (the application's settings): a service-role token signed with it also gets in.
    """
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("The operator's numbers need the project's service-role key as a Bearer token.",
                              code="unauthenticated")
    key = load(StorageSettings).supabase_service_role_key
    if key and hmac.compare_digest(token.encode(), key.encode()):
        return
    if jwt_secret:
        # Imported here (cold start): PyJWT loads cryptography (~50 modules, a few MB) that the ops function
        # needs only for a signed token, not when it is called with the service-role key itself.
        import jwt

        try:
            claims = jwt.decode(token, jwt_secret, algorithms=["HS256"],
                                options={"verify_aud": False, "require": ["role"]})
        except jwt.PyJWTError:
            claims = {}
        if claims.get("role") == SERVICE_ROLE:
            return
    raise Forbidden("Only the service role may read the operator's numbers.", code="forbidden")


def mint_service_token(secret: str, ttl_seconds: int = 300) -> str:
    """A short-lived service-role token (the local stack's stand-in for the service-role key)."""
    import jwt  # see require_service_role

    now = int(time.time())
    return jwt.encode({"role": SERVICE_ROLE, "iss": "shortpub-local", "iat": now, "exp": now + ttl_seconds},
                      secret, algorithm="HS256")
