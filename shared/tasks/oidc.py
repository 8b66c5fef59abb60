"""Check that a request to a task target really comes from our Cloud Tasks queues.

In production Cloud Tasks sends `Authorization: Bearer <Google OIDC ID token>`
signed for TASKS_SERVICE_ACCOUNT with audience TASKS_AUDIENCE (both put in every
task by `CloudTasksQueue`). We verify the signature against Google's certificates,
the issuer, expiry, audience and the service-account email. Locally (ENVIRONMENT
local/test) the emulator sends no token, so any request is accepted.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared.config import ConfigError, core, load
from shared.log import get_logger
from shared.tasks.settings import TasksSettings

log = get_logger(__name__)

# url -> {key id: x509 PEM certificate} (or a JWK set), as Google publishes them.
CertsFetcher = Callable[[str], Mapping[str, Any]]

_MAX_AGE = re.compile(r"max-age=(\d+)")
_DEFAULT_CERTS_TTL_S = 300.0


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


def verify_task_request(
    headers: HeadersLike,
    *,
    settings: TasksSettings | None = None,
    environment: str | None = None,
    certs_fetcher: CertsFetcher | None = None,
) -> None:
    """Raise TaskAuthError unless the request is a Cloud Tasks delivery we signed for."""
    environment = environment or core().environment
    if environment in ("local", "test"):
        # The emulator signs nothing; it marks deliveries with X-CloudTasks-QueueName.
        return
    settings = settings or load(TasksSettings)
    if not settings.tasks_audience or not settings.tasks_service_account:
        raise ConfigError(
            "Invalid configuration: TASKS_AUDIENCE and TASKS_SERVICE_ACCOUNT are required to verify "
            "Cloud Tasks calls in production"
        )
    token = _bearer(headers)

    from google.auth import exceptions as auth_exceptions
    from google.oauth2 import id_token

    request = _FetcherRequest(certs_fetcher or _default_fetcher)
    try:
        claims = id_token.verify_oauth2_token(
            token, request, audience=settings.tasks_audience, clock_skew_in_seconds=10
        )
    except (ValueError, auth_exceptions.GoogleAuthError) as exc:
        raise TaskAuthError(f"invalid OIDC token: {exc}") from None
    if claims.get("email") != settings.tasks_service_account or claims.get("email_verified") is False:
        raise TaskAuthError("OIDC token is for another service account")
