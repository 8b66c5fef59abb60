"""Errors of the connection flows. Each carries a plain-language message for the user.

Platform answers during token exchange/refresh are classified with the shared
platform error tree (`shared.platforms.errors`): `AuthError` means the grant is
revoked or expired (the user must reconnect), `TransientError` a network blip or
5xx (try again later), `PermanentError` anything else the user must fix.
"""

from __future__ import annotations

from typing import Any


class ConnectionFlowError(Exception):
    """A connect/callback/disconnect request that cannot go on; `user_message` says why."""

    status = 400
    code = "connection_error"

    def __init__(self, user_message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        if code:
            self.code = code
        self.detail = detail


class StateError(ConnectionFlowError):
    """The OAuth `state` is missing, unknown, reused, expired or for someone else (CSRF)."""

    code = "invalid_state"


class AccountNotEligible(ConnectionFlowError):
    """The account exists but cannot publish here (personal Instagram, no channel, no Page)."""

    code = "account_not_eligible"


class ChooseAccount(ConnectionFlowError):
    """Several accounts fit; the user must pick one (`detail` lists them)."""

    status = 409
    code = "choose_account"


class ConnectionNotFound(ConnectionFlowError):
    status = 404
    code = "connection_not_found"


class ProviderNotConfigured(ConnectionFlowError):
    status = 503
    code = "provider_not_configured"


def api_error(exc: Exception) -> Any:
    """The HTTP answer for a connection flow error or a platform refusal during it."""
    from shared.http import ApiError
    from shared.platforms.errors import ErrorClass, PlatformError

    if isinstance(exc, ConnectionFlowError):
        return ApiError(exc.status, exc.code, exc.user_message, exc.detail)
    if isinstance(exc, PlatformError):
        status = 503 if exc.error_class is ErrorClass.TRANSIENT else 502
        return ApiError(status, f"platform_{exc.error_class}", exc.user_message, {"platform_code": exc.code})
    raise exc
