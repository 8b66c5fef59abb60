"""Why a use case cannot go on as asked: the errors services raise.

A domain error says *what kind* of refusal it is (not found, conflict, invalid
input...), with a stable machine `code`, a `message` written for the person using
the product and a `detail` for the developer (field problems, limits, ids; never a
secret). It knows nothing about HTTP: the edge (shared/http.py, `ERROR_STATUS`) maps
each kind to a status code in one table.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request that cannot be done as asked; `message` says why, plainly."""

    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.detail = detail


class InvalidInput(DomainError):
    """What was sent is wrong or incomplete (a field, a value, a choice the user must make)."""


class Rejected(DomainError):
    """The request is well formed, but what it asks cannot be done (a refused sign-in, a refused key)."""


class NotFound(DomainError):
    """The thing asked for does not exist for this user (row level security hides others' rows)."""

    code = "not_found"


class Conflict(DomainError):
    """The thing exists, but its current state does not allow this (already started, already there)."""

    code = "conflict"


class NotEditable(Conflict):
    """A post that has started (or is staged on the platform) can no longer be changed or canceled."""

    code = "already_started"


class QuotaExceeded(Conflict):
    """A platform's budget for the account (posts per day, upload units) would be exceeded."""

    code = "over_platform_limit"


class Unauthenticated(DomainError):
    """The caller did not show who they are (no or a malformed credential where one is required)."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The thing exists and is visible, but this user may not use it (a file in someone else's folder)."""

    code = "forbidden"


class TooLarge(DomainError):
    """What was sent is bigger than allowed; `detail` names the limit."""

    code = "too_large"


class LimitReached(DomainError):
    """The user's own allowance for this (suggestions a day) is used up for now; `message` says until when."""

    code = "limit_reached"


class UpstreamRefused(DomainError):
    """A platform or provider refused a call made for this request, for a reason that is not the user's input."""

    code = "platform_refused"


class Unavailable(DomainError):
    """Something this request needs (a provider, a platform) is not reachable or not set up: try later."""

    code = "unavailable"
