"""The one error tree every platform answer is reduced to.

Adapters classify each platform error exactly once, into one of four classes, and
attach a plain-language message for the user plus the platform's raw code and
message for the log. Nothing above the adapters looks at platform error bodies.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any


class ErrorClass(StrEnum):
    TRANSIENT = "transient"   # retry with backoff
    AUTH = "auth"             # token expired or revoked: the user must reconnect
    QUOTA = "quota"           # a rate limit or budget: wait until `retry_at`
    PERMANENT = "permanent"   # fix the cause; retrying the same request cannot help


class PlatformError(Exception):
    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(
        self,
        user_message: str,
        *,
        platform: str,
        code: str = "",
        detail: Any = None,
        retry_at: datetime | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.platform = platform
        self.code = code              # the platform's own code, e.g. "2207042" or "quotaExceeded"
        self.detail = detail          # the platform's raw message/body, for logs only
        self.retry_at = retry_at      # quota: when the budget resets
        self.status = status          # HTTP status, when there was one

    def log_fields(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "error_class": str(self.error_class),
            "error_code": self.code,
            "http_status": self.status,
            "platform_detail": self.detail,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.platform}:{self.code}: {self.user_message!r})"


class TransientError(PlatformError):
    error_class = ErrorClass.TRANSIENT


class AuthError(PlatformError):
    error_class = ErrorClass.AUTH


class QuotaError(PlatformError):
    error_class = ErrorClass.QUOTA


class PermanentError(PlatformError):
    error_class = ErrorClass.PERMANENT


class FormatRefused(PermanentError):
    """The platform could not read the file's container, codec or picture format (EC-2).

    Permanent for the file as sent; the pipeline converts it once to the canonical encode,
    which every platform's safe profile accepts, and tries again.
    """

    fixable_by_conversion = True


def outcome_unknown(platform: str, display_name: str, detail: Any = None) -> TransientError:
    """A reconcile that could not tell whether an irreversible call took effect.

    Raised instead of answering "not found", so nothing is sent again: the pipeline
    keeps the call marked as unknown and asks the platform again later.
    """
    return TransientError(f"We're checking with {display_name} whether your video went live.",
                          platform=platform, code="outcome_unknown", detail=detail)
