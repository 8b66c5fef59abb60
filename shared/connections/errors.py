"""Errors of the connection flows. Each carries a plain-language message for the user.

They are domain errors (shared/errors.py): each says what kind of refusal it is, and
the edge's one table (shared/http.py, `ERROR_STATUS`) gives it its HTTP status.
Platform answers during token exchange/refresh are classified with the shared
platform error tree (`shared.platforms.errors`): `AuthError` means the grant is
revoked or expired (the user must reconnect), `TransientError` a network blip or
5xx (try again later), `PermanentError` anything else the user must fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.connections import messages
from shared.errors import Conflict, InvalidInput, NotFound, Rejected, Unavailable
from shared.platforms.errors import ErrorClass, PlatformError


class ConnectionFlowError(Rejected):
    """A connect/callback/disconnect request that cannot go on; `user_message` says why."""

    code = "connection_error"

    @property
    def user_message(self) -> str:
        return self.message


class StateError(ConnectionFlowError):
    """The OAuth `state` is missing, unknown, reused, expired or for someone else (CSRF)."""

    code = "invalid_state"


class AccountNotEligible(ConnectionFlowError):
    """The account exists but cannot publish here (personal Instagram, no channel, no Page)."""

    code = "account_not_eligible"


class ChooseAccount(Conflict, ConnectionFlowError):
    """Several accounts fit; the user must pick one (`detail` lists them)."""

    code = "choose_account"


class ConnectionNotFound(NotFound, ConnectionFlowError):
    code = "connection_not_found"


class ProviderNotConfigured(Unavailable, ConnectionFlowError):
    code = "provider_not_configured"


@contextmanager
def blotato_key_as_input() -> Iterator[None]:
    """A missing or refused Blotato key is the user's input (422/400); 502/503 stay for Blotato being down."""
    try:
        yield
    except ProviderNotConfigured as exc:
        if exc.code != "blotato_key_missing":
            raise
        raise InvalidInput(exc.message, code="blotato_key_required",
                           detail=[{"field": "api_key", "problem": "required"}]) from None
    except PlatformError as exc:
        if exc.error_class is ErrorClass.TRANSIENT or exc.user_message != messages.BLOTATO_BAD_KEY:
            raise
        raise Rejected(exc.user_message, code="blotato_key_refused", detail={"platform_code": exc.code}) from None
