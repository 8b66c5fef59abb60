"""Facebook's error table: Graph codes for Page video publishing, and rupload upload errors.

Codes are from platform-apis.md §3.6 and §4 (Graph error handling, Reels
publishing guide). A subcode, when known, decides before its code.
"""

from __future__ import annotations

from typing import Any

from shared.platforms import messages
from shared.platforms.errors import AuthError, PermanentError, PlatformError, QuotaError, TransientError
from shared.platforms.meta.graph import ErrorTable, Rule

RETRYING = "Facebook is experiencing issues. We'll retry automatically. You can also retry manually."
RECONNECT = messages.connection_expired("Facebook")
RATE_LIMITED = (
    "Facebook is limiting how often we can post to this Page right now. "
    "Your video will publish automatically when the limit lifts."
)
DAILY_LIMIT = (
    "This Page has reached Facebook's limit of 30 Reels per 24 hours. "
    "Your video will publish automatically when the limit resets."
)
NO_PERMISSION = (
    "Facebook did not give shortpub permission to post Reels on this Page. Please reconnect Facebook, "
    "allow every permission it asks for, and make sure you can create content on the Page."
)
PROCESSING_FAILED = (
    "Facebook could not process this video. Reels must be 3 to 90 seconds long, vertical (9:16) and at "
    "least 540x960. Please check the video and try again."
)
FORMAT_REFUSED = ("Facebook could not read this video's format. Please export it as MP4 with H.264 video and AAC "
                  "audio, then try again.")
UPLOAD_FAILED = "Facebook could not receive the video. Please try again; if it keeps happening, contact support."
TOO_SLOW = "Facebook took too long to process this video. Please try again."

RULES_BY_SUBCODE: dict[int, Rule] = {
    458: Rule(AuthError, RECONNECT),
    459: Rule(AuthError, "Facebook needs you to confirm your account (a security checkpoint). "
                         "Please log in to Facebook, then reconnect it here."),
    460: Rule(AuthError, RECONNECT),
    463: Rule(AuthError, RECONNECT),
    464: Rule(AuthError, "Facebook says this account is not confirmed yet. Please confirm it on "
                         "Facebook, then reconnect it here."),
    467: Rule(AuthError, RECONNECT),
    492: Rule(AuthError, RECONNECT),
}

RULES_BY_CODE: dict[int, Rule] = {
    1: Rule(TransientError, RETRYING),
    2: Rule(TransientError, RETRYING),
    4: Rule(QuotaError, RATE_LIMITED),
    10: Rule(PermanentError, NO_PERMISSION),
    17: Rule(QuotaError, RATE_LIMITED),
    32: Rule(QuotaError, RATE_LIMITED),
    100: Rule(PermanentError, "Facebook refused the Reel's settings. Please check the caption and title, "
                              "then try again."),
    102: Rule(AuthError, RECONNECT),
    104: Rule(AuthError, RECONNECT),
    190: Rule(AuthError, RECONNECT),
    341: Rule(QuotaError, RATE_LIMITED),
    368: Rule(PermanentError, "Facebook has temporarily blocked posting from this Page for a policy reason. "
                              "Please check the Page's notifications on Facebook, then retry later."),
    506: Rule(PermanentError, "Facebook says this exact post was already published on the Page."),
    613: Rule(QuotaError, RATE_LIMITED),
}

RULES_BY_RANGE: dict[tuple[int, int], Rule] = {
    (200, 299): Rule(PermanentError, NO_PERMISSION),
    (80001, 80009): Rule(QuotaError, RATE_LIMITED),
}

TABLE = ErrorTable(
    "facebook",
    by_subcode=RULES_BY_SUBCODE,
    by_code=RULES_BY_CODE,
    by_range=RULES_BY_RANGE,
    fallback=Rule(PermanentError, "Facebook refused this Reel. Please check the video and caption, "
                                  "then try again."),
    server_error=Rule(TransientError, RETRYING),
)

# rupload answers failures as {"debug_info": {"retriable", "type", "message"}}.
UPLOAD_ERROR_TYPES: dict[str, type[PlatformError]] = {
    "OffsetInvalidError": TransientError,      # resume at uploading_phase.bytes_transfered
    "PartialRequestError": TransientError,     # the body was cut short: resume
    "ProcessingFailedError": PermanentError,
}


def upload_error(body: Any, status: int) -> PlatformError | None:
    """The classified rupload failure in `body`, or None when it is not one."""
    info = body.get("debug_info") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        return None
    kind = str(info.get("type") or "")
    error_class = UPLOAD_ERROR_TYPES.get(kind)
    if error_class is None:
        error_class = TransientError if info.get("retriable") else PermanentError
    message = RETRYING if error_class is TransientError else UPLOAD_FAILED
    return error_class(message, platform="facebook", code=kind or "upload_error", detail=info, status=status)


def error_class(code: str) -> type[PlatformError] | None:
    """How a Graph code ("190") is classified (the OAuth mechanism asks too); None when not listed."""
    return TABLE.error_class(code)
