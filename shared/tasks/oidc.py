"""Check that a request to a task target really comes from our Cloud Tasks queues.

In production Cloud Tasks sends `Authorization: Bearer <Google OIDC ID token>`
signed for TASKS_SERVICE_ACCOUNT with audience TASKS_AUDIENCE (both put in every
task by `CloudTasksQueue`). Locally (ENVIRONMENT local/test) the emulator sends no
token, so any request is accepted.

One model, two token forms:

- A private function on Cloud Run (deployed `--no-allow-unauthenticated`) is reached
  only after Cloud Run's own IAM check has verified the token's signature and that its
  account holds `roles/run.invoker`. Cloud Run then hands the token to the container
  with the signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE`
  (https://cloud.google.com/run/docs/troubleshooting#signature-removed). There we trust
  Cloud Run for the signature and check the claims ourselves: issuer, audience, the
  tasks account's email, expiry. That trust is given only when the process runs on
  Cloud Run (`K_SERVICE` is set by the platform) and the deploy declared the invoker
  check on for this function (TASKS_INVOKER_IAM_CHECK=true, set only on private
  functions); anywhere else a signature-removed token is refused.
- Any other token is verified in full: signature against Google's certificates, then
  the same claims.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.log import get_logger

if TYPE_CHECKING:
    from shared.tasks.settings import TasksSettings

log = get_logger(__name__)

# url -> {key id: x509 PEM certificate} (or a JWK set), as Google publishes them.
CertsFetcher = Callable[[str], Mapping[str, Any]]

_MAX_AGE = re.compile(r"max-age=(\d+)")
_DEFAULT_CERTS_TTL_S = 300.0
# What Cloud Run puts in place of the signature of a token it has already verified.
SIGNATURE_REMOVED = "SIGNATURE_REMOVED_BY_GOOGLE"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
CLOCK_SKEW_S = 10


class HeadersLike(Protocol):
    """A dict of headers or Flask/Werkzeug `request.headers`."""

    def items(self) -> Iterable[tuple[str, str]]: ...


class TaskAuthError(PermissionError):
    """The request is not a genuine Cloud Tasks delivery. `reason` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CachedCertsFetcher:
    """Google's signing certificates over HTTPS, cached as long as Cache-Control allows."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str) -> Mapping[str, Any]:
        import httpx

        with self._lock:
            cached = self._cache.get(url)
            if cached and cached[0] > time.monotonic():
                return cached[1]
        response = httpx.get(url, timeout=10.0)
        response.raise_for_status()
        certs = response.json()
        match = _MAX_AGE.search(response.headers.get("cache-control", ""))
        ttl = float(match.group(1)) if match else _DEFAULT_CERTS_TTL_S
        with self._lock:
            self._cache[url] = (time.monotonic() + ttl, certs)
        return certs  # type: ignore[no-any-return]


@dataclass
class _Response:
    status: int
    data: bytes


class _FetcherRequest:
    """Adapts a CertsFetcher to the `google.auth.transport.Request` call google-auth makes."""

    def __init__(self, fetch: CertsFetcher) -> None:
        self.fetch = fetch

    def __call__(self, url: str, method: str = "GET", **_: Any) -> _Response:
        try:
            return _Response(200, json.dumps(dict(self.fetch(url))).encode())
        except Exception as exc:  # any fetch problem is "could not verify", never a crash
            log.warning("oidc_certs_fetch_failed", error=type(exc).__name__)
            return _Response(503, b"")


_default_fetcher = CachedCertsFetcher()


def _bearer(headers: HeadersLike) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TaskAuthError("missing bearer token")
    return token.strip()


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT whose signature someone else checked (Cloud Run)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TaskAuthError("invalid OIDC token: not a JWT")
    payload = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise TaskAuthError(f"invalid OIDC token: unreadable claims ({type(exc).__name__})") from None
    if not isinstance(claims, dict):
        raise TaskAuthError("invalid OIDC token: claims are not an object")
    return claims


def _check_claims(claims: Mapping[str, Any], settings: TasksSettings, now: float) -> None:
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise TaskAuthError(f"wrong issuer {claims.get('iss')!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.tasks_audience not in audiences:
        raise TaskAuthError(f"wrong audience {audience!r}")
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires + CLOCK_SKEW_S < now:
        raise TaskAuthError("token expired")
    if claims.get("email") != settings.tasks_service_account or claims.get("email_verified") is False:
        raise TaskAuthError("OIDC token is for another service account")


def cloud_run_checked_the_signature(settings: TasksSettings, env: Mapping[str, str] | None = None) -> bool:
    """True only on Cloud Run (K_SERVICE is set by the platform) with the invoker IAM check declared on."""
    env = os.environ if env is None else env
    return bool(env.get("K_SERVICE")) and settings.tasks_invoker_iam_check


def verify_task_request(
    headers: HeadersLike,
    *,
    settings: TasksSettings,
    environment: str,
    now: float,
    certs_fetcher: CertsFetcher | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Raise TaskAuthError unless the request is a Cloud Tasks delivery we signed for.

    `now` is the application's clock in Unix seconds, for the token's expiry.
    """
    if environment in ("local", "test"):
        # The emulator signs nothing; it marks deliveries with X-CloudTasks-QueueName.
        return
    if not settings.tasks_audience or not settings.tasks_service_account:
        from shared.config import ConfigError  # with the settings: pydantic-settings is no part of cold start

        raise ConfigError(
            "Invalid configuration: TASKS_AUDIENCE and TASKS_SERVICE_ACCOUNT are required to verify "
            "Cloud Tasks calls in production"
        )
    token = _bearer(headers)

    if token.endswith("." + SIGNATURE_REMOVED):
        if not cloud_run_checked_the_signature(settings, env):
            raise TaskAuthError("signature removed, but Cloud Run's invoker check is not on for this function")
        _check_claims(_unverified_claims(token), settings, now)
        return

    from google.auth import exceptions as auth_exceptions
    from google.oauth2 import id_token

    request = _FetcherRequest(certs_fetcher or _default_fetcher)
    try:
        claims = id_token.verify_oauth2_token(
            token, request, audience=settings.tasks_audience, clock_skew_in_seconds=CLOCK_SKEW_S
        )
    except (ValueError, auth_exceptions.GoogleAuthError) as exc:
        raise TaskAuthError(f"invalid OIDC token: {exc}") from None
    _check_claims(claims, settings, now)
