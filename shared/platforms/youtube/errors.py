"""Every documented YouTube Data API error, reduced to our four error classes.

Google answers `{"error": {"code": 403, "message": "...", "errors": [{"domain": ...,
"reason": "quotaExceeded", "message": "..."}]}}`; `reason` is what we classify on.
The platform's own code and message stay on the error (`code`, `detail`) for logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

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

PLATFORM = "youtube"
PACIFIC = ZoneInfo("America/Los_Angeles")
# When Google asks us to slow down without saying for how long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(seconds=60)

RECONNECT = messages.connection_expired("YouTube")
RETRYING = "YouTube is having trouble right now. We'll retry automatically. You can also retry manually."


def next_pacific_midnight(now: datetime) -> datetime:
    """When YouTube's daily quotas reset: the next midnight in America/Los_Angeles."""
    local = now.astimezone(PACIFIC)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


@dataclass(frozen=True)
class Rule:
    kind: type[PlatformError]
    user_message: str
    # For QuotaError: when to try again, given "now" and the response.
    retry_at: Callable[[datetime, httpx.Response | None], datetime] | None = None


def _midnight(now: datetime, _: httpx.Response | None) -> datetime:
    return next_pacific_midnight(now)


def _retry_after(now: datetime, response: httpx.Response | None) -> datetime:
    return now + retry_after_seconds(response, DEFAULT_RATE_LIMIT_WAIT, now)


def retry_after_seconds(response: httpx.Response | None, default: timedelta, now: datetime) -> timedelta:
    """The server's Retry-After (seconds, or an HTTP date counted from `now`), else `default`."""
    value = response.headers.get("Retry-After") if response is not None else None
    if value:
        try:
            return timedelta(seconds=max(0.0, float(value)))
        except ValueError:
            try:
                return max(timedelta(0), parsedate_to_datetime(value) - now)
            except (TypeError, ValueError):
                pass
    return default


# reason -> rule. Reasons are unique across statuses, so one table serves all.
RULES: dict[str, Rule] = {
    # --- 400: the request itself is wrong; retrying the same request cannot help
    "invalidTitle": Rule(PermanentError,
        "YouTube did not accept the title. Use at most 100 characters and no < or > signs, then try again."),
    "invalidDescription": Rule(PermanentError,
        "YouTube did not accept the description. Keep it under 5,000 bytes (emoji and accented letters "
        "count more than one) with no < or > signs, then try again."),
    "invalidTags": Rule(PermanentError,
        "YouTube did not accept the tags. Keep all tags together under 500 characters, then try again."),
    "invalidCategoryId": Rule(PermanentError,
        "YouTube did not accept the video category. Pick another category and try again."),
    "invalidPublishAt": Rule(PermanentError,
        "YouTube did not accept the scheduled time. Pick a time in the future for a private video "
        "that has not been published yet, then try again."),
    "invalidFilename": Rule(PermanentError,
        "YouTube did not accept the video's file name. Rename the file and try again."),
    "mediaBodyRequired": Rule(PermanentError,
        "YouTube received no video or image file. Upload the file again and retry."),
    "invalidVideoMetadata": Rule(PermanentError,
        "YouTube did not accept the video's details. Check the title, description and tags, then try again."),
    "uploadLimitExceeded": Rule(QuotaError,
        "Your YouTube channel reached its daily upload limit. Your video will publish automatically "
        "tomorrow, after the limit resets at midnight Pacific time.", _midnight),
    "invalidImage": Rule(PermanentError,
        "YouTube did not accept the thumbnail image. Use a JPEG or PNG under 50 MB."),
    "mediaBodyTooLarge": Rule(PermanentError,
        "The file is larger than YouTube accepts. Use a smaller file and try again."),
    "badRequest": Rule(PermanentError,
        "YouTube could not accept this video as sent. Check the video and its details, then try again."),
    # --- 401
    "authError": Rule(AuthError, RECONNECT),
    "unauthorized": Rule(AuthError, RECONNECT),
    "youtubeSignupRequired": Rule(PermanentError,
        "This Google account has no YouTube channel yet: create one at youtube.com, then reconnect."),
    # --- 403
    "quotaExceeded": Rule(QuotaError,
        "YouTube's daily upload limit for our app is used up. Your video will publish automatically "
        "after the limit resets at midnight Pacific time.", _midnight),
    "forbidden": Rule(PermanentError,
        "YouTube did not allow this action on your channel. Check the channel's permissions in "
        "YouTube Studio, then try again."),
    "forbiddenPrivacySetting": Rule(PermanentError,
        "YouTube did not accept the chosen visibility (public, unlisted or private). Pick another and try again."),
    "forbiddenLicenseSetting": Rule(PermanentError,
        "YouTube did not accept the chosen license for this video. Pick the standard YouTube license "
        "and try again."),
    "insufficientPermissions": Rule(AuthError,
        "Your YouTube connection is missing the permission to upload videos. Please reconnect YouTube "
        "and allow all requested permissions. Your video will publish automatically after reconnecting."),
    "authenticatedUserAccountSuspended": Rule(PermanentError,
        "YouTube has suspended this channel, so it cannot upload videos. Check your email from YouTube "
        "or YouTube Studio for details."),
    "accountDelegationForbidden": Rule(PermanentError,
        "Your Google account is not allowed to manage this YouTube channel. Ask the channel owner for "
        "access, then reconnect."),
    # --- 403/429: slow down for a moment
    "rateLimitExceeded": Rule(QuotaError,
        "YouTube asked us to slow down. Your video will be sent again in a moment.", _retry_after),
    "userRateLimitExceeded": Rule(QuotaError,
        "YouTube asked us to slow down. Your video will be sent again in a moment.", _retry_after),
    "uploadRateLimitExceeded": Rule(QuotaError,
        "Too many thumbnail uploads in a short time. We'll try again in a moment.", _retry_after),
    # --- 404
    "videoNotFound": Rule(PermanentError,
        "YouTube cannot find this video anymore. It may have been deleted from the channel."),
    "notFound": Rule(PermanentError,
        "YouTube cannot find this video anymore. It may have been deleted from the channel."),
    # --- 5xx: YouTube's side; retry with backoff
    "internalError": Rule(TransientError, RETRYING),
    "backendError": Rule(TransientError, RETRYING),
}

# Answers that carry no (known) reason, by status.
STATUS_FALLBACK: dict[int, Rule] = {
    400: RULES["badRequest"],
    401: RULES["authError"],
    403: RULES["forbidden"],
    404: RULES["notFound"],
    408: Rule(TransientError, RETRYING),
    429: RULES["rateLimitExceeded"],
}


# Google's token endpoint speaks OAuth codes, not Data API reasons: `invalid_rapt` ("reauth
# related error") means the user must sign in again, like `invalid_grant` (reported in
# https://github.com/googleapis/google-auth-library-nodejs/issues/1961).
TOKEN_ENDPOINT_CODES: dict[str, type[PlatformError]] = {"invalid_rapt": AuthError}


def error_class(reason: str) -> type[PlatformError] | None:
    """How a reason or token-endpoint code is classified (the OAuth mechanism asks too); None when not listed."""
    rule = RULES.get(reason)
    return rule.kind if rule else TOKEN_ENDPOINT_CODES.get(reason)


def _reason_and_message(body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    errors = error.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    return str(first.get("reason") or error.get("status") or ""), str(error.get("message") or "")


def classify(response: httpx.Response, *, now: datetime) -> PlatformError:
    """Turn a failed YouTube answer into the matching error, with its plain message (a retry time counted from `now`,
    the step's clock)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    reason, message = _reason_and_message(body)
    rule = RULES.get(reason)
    if rule is None:
        if response.status_code >= 500:
            rule = Rule(TransientError, RETRYING)
        else:
            rule = STATUS_FALLBACK.get(response.status_code, RULES["badRequest"])
    return build(rule, code=reason or str(response.status_code), detail=message or body,
                 status=response.status_code, response=response, now=now)


def from_reason(reason: str, *, detail: Any = None, now: datetime) -> PlatformError:
    """The error for a reason found outside an HTTP error (e.g. a thumbnail answer)."""
    rule = RULES.get(reason, RULES["badRequest"])
    return build(rule, code=reason, detail=detail, status=None, response=None, now=now)


def build(rule: Rule, *, code: str, detail: Any, status: int | None,
          response: httpx.Response | None, now: datetime) -> PlatformError:
    retry_at = None
    if rule.kind is QuotaError:
        retry_at = (rule.retry_at or _retry_after)(now, response)
    return rule.kind(rule.user_message, platform=PLATFORM, code=code, detail=detail,
                     retry_at=retry_at, status=status)


def network_error(exc: httpx.HTTPError) -> TransientError:
    """Timeouts, resets and refused connections: YouTube may be fine, the network was not."""
    return TransientError(
        "We could not reach YouTube. We'll retry automatically. You can also retry manually.",
        platform=PLATFORM,
        code=type(exc).__name__,
        detail=str(exc),
    )


# What a finished upload's status means, when YouTube did not accept it.
FAILURE_REASONS: dict[str, str] = {
    "codec": "YouTube could not read the video's format (codec). Export it as MP4 with H.264 video "
             "and AAC audio, then publish again.",
    "conversion": "YouTube could not convert the video. Export it again as MP4 (H.264 video, AAC audio) "
                  "and publish again.",
    "emptyFile": "YouTube received an empty video file. Check the video plays, then publish again.",
    "invalidFile": "YouTube could not open the video file. Check it plays, export it again as MP4, "
                   "then publish again.",
    "tooSmall": "The video file is too small for YouTube. Check it plays and is not cut short, then "
                "publish again.",
    "uploadAborted": "The upload to YouTube was interrupted. Publish again to retry.",
}
REJECTION_REASONS: dict[str, str] = {
    "claim": "YouTube rejected the video because of a copyright claim on its content.",
    "copyright": "YouTube rejected the video for copyright reasons. Use only music and footage you "
                 "have rights to.",
    "duplicate": "YouTube rejected the video because the same video is already on your channel.",
    "inappropriate": "YouTube rejected the video for breaking its community guidelines.",
    "legal": "YouTube rejected the video for legal reasons.",
    "length": "YouTube rejected the video because it is too long for this channel. Shorts can be up to "
              "3 minutes.",
    "termsOfUse": "YouTube rejected the video for breaking its terms of use.",
    "trademark": "YouTube rejected the video because of a trademark issue.",
    "uploaderAccountClosed": "YouTube rejected the video because the channel is closed.",
    "uploaderAccountSuspended": "YouTube rejected the video because the channel is suspended.",
}
CONVERTIBLE_FAILURES = frozenset({"codec", "conversion", "invalidFile"})
PROCESSING_FAILURE = "YouTube could not process the video. Export it again as MP4 (H.264 video, " \
    "AAC audio) and publish again."
DELETED = "The video was deleted from YouTube before it finished processing."


def upload_failed(status: dict[str, Any], processing: dict[str, Any] | None = None) -> PermanentError:
    """The permanent error for a video YouTube failed, rejected or deleted after upload."""
    upload_status = status.get("uploadStatus", "")
    if upload_status == "rejected":
        reason = str(status.get("rejectionReason", ""))
        message = REJECTION_REASONS.get(reason, "YouTube rejected the video.")
    elif upload_status == "deleted":
        reason, message = "deleted", DELETED
    else:
        reason = str(status.get("failureReason") or (processing or {}).get("processingFailureReason") or "")
        message = FAILURE_REASONS.get(reason, PROCESSING_FAILURE)
    # A codec or conversion failure is what our own re-encode fixes: converted and retried once (EC-2).
    error = FormatRefused if upload_status == "failed" and reason in CONVERTIBLE_FAILURES else PermanentError
    return error(message, platform=PLATFORM, code=f"{upload_status}:{reason}",
                 detail={"status": status, "processingDetails": processing})
