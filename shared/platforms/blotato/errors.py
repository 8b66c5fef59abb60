"""Blotato's answers, reduced once to our four error classes with plain-language messages.

Blotato documents few errors: 401 (bad key), 404, 422 (validation), 429 with
"Rate limit exceeded, retry in N seconds", and 500 with code 9999. A post that
reaches status `failed` carries TikTok's reason as free text in `errorMessage`;
Blotato says not to retry those blindly, so they are permanent, reduced to a
plain sentence by the patterns below.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.platforms.errors import (
    AuthError,
    FormatRefused,
    PermanentError,
    PlatformError,
    QuotaError,
    TransientError,
)

PLATFORM = "blotato"
DEFAULT_RETRY_SECONDS = 60

# code -> (error class, what the user reads). Codes are HTTP statuses, plus Blotato's own body code.
ERROR_TABLE: dict[str, tuple[type[PlatformError], str]] = {
    "401": (
        AuthError,
        "Blotato no longer accepts the API key for your TikTok connection. "
        "Reconnect TikTok (via Blotato) with a current API key; your video will publish after that.",
    ),
    "403": (
        AuthError,
        "Blotato refused access with this API key (an API subscription is required). "
        "Check your Blotato plan, then reconnect TikTok (via Blotato).",
    ),
    "404": (
        PermanentError,
        "Blotato could not find this post or TikTok account. Check that the TikTok account is still "
        "connected in Blotato, then publish again.",
    ),
    "422": (
        PermanentError,
        "Blotato did not accept the post settings. Check the TikTok options (who can view, comments, "
        "duet, stitch) and that the TikTok account is still connected in Blotato, then publish again.",
    ),
    "429": (
        QuotaError,
        "Blotato's posting limit was reached for the moment. We'll publish automatically when it resets.",
    ),
    "9999": (
        TransientError,
        "TikTok (via Blotato) is having problems right now. We'll retry automatically; you can also retry manually.",
    ),
    "5xx": (
        TransientError,
        "TikTok (via Blotato) is having problems right now. We'll retry automatically; you can also retry manually.",
    ),
    "network": (
        TransientError,
        "We couldn't reach Blotato. We'll retry automatically; you can also retry manually.",
    ),
    "4xx": (
        PermanentError,
        "Blotato did not accept this post. Please check the post and try again.",
    ),
}

_RETRY_IN = re.compile(r"retry in (\d+(?:\.\d+)?)\s*seconds?", re.I)


def error_class(code: str) -> type[PlatformError] | None:
    """How a code is classified (the connect provider asks too); None when not listed."""
    found = ERROR_TABLE.get(code)
    return found[0] if found else None


def retry_after_seconds(message: str) -> float:
    match = _RETRY_IN.search(message or "")
    return float(match.group(1)) if match else DEFAULT_RETRY_SECONDS


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def error_from_response(response: httpx.Response, *, now: datetime) -> PlatformError:
    """Classify a non-2xx Blotato answer; a rate limit's retry time is counted from `now`, the step's clock."""
    status = response.status_code
    body = _body(response)
    message = str(body.get("message", "")) if isinstance(body, dict) else str(body)
    body_code = str(body.get("code", "")) if isinstance(body, dict) else ""
    if body_code in ERROR_TABLE:
        key = body_code
    elif str(status) in ERROR_TABLE:
        key = str(status)
    else:
        key = "5xx" if status >= 500 else "4xx"
    cls, user_message = ERROR_TABLE[key]
    retry_at = None
    if cls is QuotaError:
        retry_at = now + timedelta(seconds=retry_after_seconds(message))
    return cls(user_message, platform=PLATFORM, code=body_code or str(status), detail=body, status=status,
               retry_at=retry_at)


def network_error(exc: httpx.HTTPError) -> TransientError:
    cls, user_message = ERROR_TABLE["network"]
    return TransientError(user_message, platform=PLATFORM, code="network", detail=f"{type(exc).__name__}: {exc}")


# Patterns in a failed post's errorMessage -> the plain sentence the user reads. First match wins.
FAILED_POST_REASONS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    # Blotato converts off-spec videos only up to 120 s; we convert it ourselves and post again.
    (re.compile(r"conversion .*(limit|120)|120 ?s", re.I), "conversion_too_long",
     "Blotato could only convert this video if it were 2 minutes or shorter. Export it as an MP4 "
     "(H.264 video, AAC audio) and publish again."),
    (re.compile(r"codec|format|encod|corrupt|unsupported media", re.I), "video_format",
     "TikTok could not process this video's format. Export it as an MP4 (H.264 video, AAC audio) and publish again."),
    (re.compile(r"duration|too long|too short|length", re.I), "video_duration",
     "The video's length is not allowed on this TikTok account. Shorten it and publish again."),
    (re.compile(r"resolution|dimension|picture size|aspect|frame rate|fps", re.I), "video_size",
     "TikTok did not accept the video's size or frame rate. Use a vertical 1080x1920 video at 23-60 fps."),
    (re.compile(r"download|fetch|retriev|url|access the (video|media)", re.I), "media_unreachable",
     "Blotato could not download the video. Publish again; if it keeps failing, upload the video again."),
    (re.compile(r"spam|too many|limit|quota", re.I), "posting_limit",
     "TikTok limited posting on this account for now (too many posts). Try again tomorrow."),
    (re.compile(r"token|auth|reconnect|expired|permission|revoked|unauthori", re.I), "account_disconnected",
     "Blotato lost access to your TikTok account. Reconnect TikTok inside Blotato, then publish again."),
    (re.compile(r"privacy|private", re.I), "privacy",
     "TikTok did not accept the chosen audience for this account. Pick another 'who can view' option."),
)
FAILED_POST_DEFAULT = (
    "TikTok did not accept this video. Check the video and caption, then publish again."
)


# Refusals our own re-encode fixes: the pipeline converts the file once and posts again (EC-2).
CONVERTIBLE = frozenset({"video_format", "video_size", "conversion_too_long"})


def failed_post_error(error_message: str | None, post_id: str) -> PermanentError:
    """A post Blotato reports as `failed`: permanent, never retried blindly."""
    for pattern, code, sentence in FAILED_POST_REASONS:
        if error_message and pattern.search(error_message):
            error = FormatRefused if code in CONVERTIBLE else PermanentError
            return error(sentence, platform=PLATFORM, code=code,
                         detail={"postSubmissionId": post_id, "errorMessage": error_message})
    return PermanentError(FAILED_POST_DEFAULT, platform=PLATFORM, code="failed",
                          detail={"postSubmissionId": post_id, "errorMessage": error_message})
