"""TikTok's answers, reduced once to our four error classes with plain-language messages.

Every Content Posting API answer carries `error: {code, message, log_id}`; `code == "ok"`
is success, and creator_info reports some errors with HTTP 200. Processing failures
arrive later as `fail_reason` on status/fetch. Both tables are here, with the
upload-URL statuses; the raw code, message and log_id stay in `detail`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.platforms import messages
from shared.platforms.errors import (
    AuthError,
    FormatRefused,
    PermanentError,
    PlatformError,
    QuotaError,
    TransientError,
)

PLATFORM = "tiktok"
RATE_LIMIT_RETRY_SECONDS = 60

_RETRY = "TikTok is experiencing issues. We'll retry automatically. You can also retry manually."
_RECONNECT = messages.connection_expired("TikTok")
_DAILY_CAP = ("TikTok's daily posting limit for this account was reached. "
              "Your video will publish automatically tomorrow.")

# Before TikTok audits the app, it takes only SELF_ONLY posts from private accounts, from at most
# 5 users per 24 h. https://developers.tiktok.com/doc/content-sharing-guidelines/
UNAUDITED_MESSAGE = ("This app is still in TikTok's review: only private accounts can post, and the video will be "
                     "visible only to you. Make your TikTok account private and choose 'Only me', then publish again.")
UNAUDITED_USER_CAP_MESSAGE = ("This app is still in TikTok's review, and TikTok lets at most 5 accounts post through "
                              "it per 24 hours. Your video will publish automatically tomorrow.")

# error.code -> (class, user message). "until_tomorrow" quota codes reset at the next UTC day.
ERROR_TABLE: dict[str, tuple[type[PlatformError], str]] = {
    "access_token_invalid": (AuthError, _RECONNECT),
    "scope_not_authorized": (
        AuthError,
        "shortpub is not allowed to post to this TikTok account. Reconnect TikTok and allow posting videos.",
    ),
    # Spelled `invalid_params` on https://developers.tiktok.com/doc/tiktok-api-v2-error-handling
    "invalid_params": (
        PermanentError,
        "TikTok did not accept this post's settings. Check the caption and options, then publish again.",
    ),
    "spam_risk_too_many_posts": (QuotaError, _DAILY_CAP),
    "spam_risk_too_many_pending_share": (
        QuotaError,
        "Too many videos are waiting in your TikTok inbox. Finish or delete some drafts in the TikTok app; "
        "we'll send this one tomorrow.",
    ),
    "spam_risk_user_banned_from_posting": (
        PermanentError,
        "TikTok has blocked this account from posting for now. Check your TikTok app for a notice from TikTok.",
    ),
    "reached_active_user_cap": (
        QuotaError,
        "TikTok's daily limit of posting accounts for shortpub was reached. Your video will publish "
        "automatically tomorrow.",
    ),
    "unaudited_client_can_only_post_to_private_accounts": (PermanentError, UNAUDITED_MESSAGE),
    "url_ownership_unverified": (
        PermanentError,
        "TikTok would not download the video from our storage. Please contact support; we need to switch "
        "this account to direct upload.",
    ),
    "privacy_level_option_mismatch": (
        PermanentError,
        "The chosen audience is not available for this TikTok account. Pick another 'who can view' option.",
    ),
    "rate_limit_exceeded": (
        QuotaError,
        "TikTok asked us to slow down. We'll continue automatically in a minute.",
    ),
    "internal_error": (TransientError, _RETRY),
    "5xx": (TransientError, _RETRY),
    "network": (TransientError, "We couldn't reach TikTok. We'll retry automatically; you can also retry manually."),
    "401": (AuthError, _RECONNECT),
    "429": (QuotaError, "TikTok asked us to slow down. We'll continue automatically in a minute."),
    "4xx": (PermanentError, "TikTok did not accept this post. Please check the video and try again."),
}
UNTIL_TOMORROW = {"spam_risk_too_many_posts", "spam_risk_too_many_pending_share", "reached_active_user_cap"}

# status/fetch fail_reason -> (class, user message). Transient, auth and quota reasons restart the
# publish (the failed one can never go live), so the class matters once restarts are used up.
FAIL_REASONS: dict[str, tuple[type[PlatformError], str]] = {
    # Format, frame rate and picture size are what a re-encode fixes: converted and retried once (EC-2).
    "file_format_check_failed": (
        FormatRefused,
        "TikTok could not read this video's format. Export it as an MP4 (H.264 video, AAC audio) and publish again.",
    ),
    "duration_check_failed": (
        PermanentError,
        "The video is too long or too short for this TikTok account. Trim it and publish again.",
    ),
    "frame_rate_check_failed": (
        FormatRefused,
        "TikTok did not accept the video's frame rate. Use a video between 23 and 60 frames per second.",
    ),
    "picture_size_check_failed": (
        FormatRefused,
        "TikTok did not accept the video's size. Use a video between 360 and 4096 pixels on each side "
        "(1080x1920 works best).",
    ),
    "internal": (TransientError, _RETRY),
    "video_pull_failed": (
        TransientError,
        "TikTok could not download the video from our storage. We'll retry automatically.",
    ),
    "photo_pull_failed": (
        TransientError,
        "TikTok could not download the images from our storage. We'll retry automatically.",
    ),
    "publish_cancelled": (PermanentError, "This TikTok post was cancelled before it went live."),
    "auth_removed": (
        AuthError,
        "You removed shortpub's access in TikTok. Please reconnect TikTok; your video will publish after that.",
    ),
    "spam_risk_too_many_posts": (QuotaError, _DAILY_CAP),
    "spam_risk_user_banned_from_posting": ERROR_TABLE["spam_risk_user_banned_from_posting"],
    "spam_risk_text": (
        PermanentError,
        "TikTok flagged the caption as spam. Change the caption (fewer hashtags, mentions or links) and publish again.",
    ),
    "spam_risk": (
        PermanentError,
        "TikTok flagged this post as possible spam and did not publish it. Change the video or caption and try again.",
    ),
}
FAIL_REASON_DEFAULT = (PermanentError, "TikTok could not publish this video. Check the video and publish again.")

# FILE_UPLOAD PUT statuses we do not recover from inside the adapter.
UPLOAD_STATUS: dict[int, tuple[type[PlatformError], str]] = {
    400: (PermanentError, "TikTok rejected the upload. Please publish again; if it keeps failing, contact support."),
    429: ERROR_TABLE["429"],
}


def error_class(code: str) -> type[PlatformError] | None:
    """How an `error.code` is classified (the OAuth mechanism asks too); None when not listed."""
    found = ERROR_TABLE.get(code)
    return found[0] if found else None


def next_utc_day(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)


def _retry_at(code: str, now: datetime) -> datetime:
    if code in UNTIL_TOMORROW:
        return next_utc_day(now)
    return now + timedelta(seconds=RATE_LIMIT_RETRY_SECONDS)


def make_error(key: str, code: str, detail: Any, status: int | None, table: dict | None = None, *,
               now: datetime) -> PlatformError:
    """The classified error; `now` is the step's clock (`job.now`): a quota's retry time is counted from it."""
    cls, message = (table or ERROR_TABLE).get(key, FAIL_REASON_DEFAULT if table is FAIL_REASONS else ERROR_TABLE["4xx"])
    retry_at = _retry_at(key, now) if cls is QuotaError else None
    return cls(message, platform=PLATFORM, code=code, detail=detail, status=status, retry_at=retry_at)


def error_from_body(status: int, body: Any, *, now: datetime) -> PlatformError:
    """Classify an answer whose `error.code` is not "ok" (any HTTP status)."""
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    if code in ERROR_TABLE:
        key = code
    elif status >= 500:
        key = "5xx"
    elif str(status) in ERROR_TABLE:
        key = str(status)
    else:
        key = "4xx"
    return make_error(key, code or str(status), body, status, now=now)


def error_from_response(response: httpx.Response, *, now: datetime) -> PlatformError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    return error_from_body(response.status_code, body, now=now)


def error_from_fail_reason(reason: str | None, detail: Any, *, now: datetime) -> PlatformError:
    return make_error(reason or "", reason or "failed", detail, None, FAIL_REASONS, now=now)


def network_error(exc: httpx.HTTPError) -> TransientError:
    _, message = ERROR_TABLE["network"]
    return TransientError(message, platform=PLATFORM, code="network", detail=f"{type(exc).__name__}: {exc}")


def upload_error(status: int, text: str, *, now: datetime) -> PlatformError:
    if status >= 500:
        return make_error("5xx", str(status), text[:500], status, now=now)
    cls, message = UPLOAD_STATUS.get(status, ERROR_TABLE["4xx"])
    retry_at = _retry_at("rate_limit_exceeded", now) if cls is QuotaError else None
    return cls(message, platform=PLATFORM, code=f"upload_{status}", detail=text[:500], status=status, retry_at=retry_at)
