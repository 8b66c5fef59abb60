"""Instagram's error table: every documented Graph and publishing code, classified once.

Codes are from platform-apis.md §3.6 (Graph error envelope, Instagram publishing
table). A subcode, when known, decides before its code.
"""

from __future__ import annotations

from datetime import timedelta

from shared.platforms import messages
from shared.platforms.errors import AuthError, FormatRefused, PermanentError, PlatformError, QuotaError, TransientError
from shared.platforms.meta.graph import ErrorTable, Rule


class UnsupportedVideoFormat(FormatRefused):
    """Instagram cannot read the video (2207026): the pipeline converts it and tries again (EC-2)."""


ACCOUNT_TYPE_HELP_URL = "https://help.instagram.com/502981923235522"

PERSONAL_ACCOUNT = (
    "Instagram Reels require a Business or Creator account. "
    f"Here's how to convert: {ACCOUNT_TYPE_HELP_URL}"
)
RETRYING = "Instagram is experiencing issues. We'll retry automatically. You can also retry manually."
RECONNECT = messages.connection_expired("Instagram")
RATE_LIMITED = (
    "Instagram is limiting how often we can post for this account right now. "
    "Your video will publish automatically when the limit lifts."
)
DAILY_LIMIT = (
    "You've reached Instagram's limit of posts per 24 hours for this account. "
    "Your video will publish automatically when the limit resets."
)
NO_PERMISSION = (
    "Instagram did not give shortpub permission to publish on this account. "
    "Please reconnect Instagram and allow every permission it asks for."
)
UNSUPPORTED_FORMAT = (
    "Instagram can't read this video's format. Please export it as MP4 with H.264 video "
    "and AAC audio, then try again."
)
TOO_SLOW = "Instagram took too long to process this video. Please try again; a shorter or smaller file helps."
PROCESSING_FAILED = "Instagram could not process this video. Please try again, or export it again as MP4 (H.264/AAC)."

RULES_BY_SUBCODE: dict[int, Rule] = {
    # 190 token subcodes: the user must log in again.
    458: Rule(AuthError, RECONNECT),
    459: Rule(AuthError, "Instagram needs you to confirm your account (a security checkpoint). "
                         "Please open the Instagram app, then reconnect Instagram here."),
    460: Rule(AuthError, RECONNECT),
    463: Rule(AuthError, RECONNECT),
    464: Rule(AuthError, "Instagram says this account is not confirmed yet. Please confirm it in the "
                         "Instagram app, then reconnect Instagram here."),
    467: Rule(AuthError, RECONNECT),
    492: Rule(AuthError, RECONNECT),
    # Instagram publishing table.
    2207001: Rule(TransientError, RETRYING),
    2207003: Rule(TransientError, "Instagram timed out downloading the video. We'll retry automatically."),
    2207004: Rule(PermanentError, "The cover image is larger than Instagram allows (8 MB). "
                                  "Please use a smaller JPEG cover."),
    2207005: Rule(PermanentError, "Instagram does not accept this cover image format. Please use a JPEG cover."),
    # Not a sure sign of a revoked token, so the connection is not marked dead.
    2207006: Rule(PermanentError, "Instagram could not find the media with this connection. "
                                  "Please reconnect Instagram and try again."),
    2207008: Rule(TransientError, "Instagram's upload session ran out. We'll retry automatically."),
    2207009: Rule(PermanentError, "Instagram does not accept the cover image's shape. "
                                  "Please use a vertical 9:16 cover."),
    2207010: Rule(PermanentError, "The caption is too long for Instagram (2,200 characters, 30 hashtags, "
                                  "20 @mentions). Please shorten it."),
    2207020: Rule(TransientError, "Instagram let the upload expire. We'll upload it again automatically."),
    2207023: Rule(PermanentError, "Instagram did not recognise this as a Reel. Please contact support."),
    2207026: Rule(UnsupportedVideoFormat, UNSUPPORTED_FORMAT),
    2207027: Rule(TransientError, "Instagram is still processing the video. We'll publish it when it's ready."),
    2207028: Rule(PermanentError, "Instagram refused the number of items in this post. Please post one video."),
    2207032: Rule(TransientError, RETRYING),
    2207040: Rule(PermanentError, "Instagram allows at most 20 @mentions. Please remove some from the caption."),
    2207042: Rule(QuotaError, DAILY_LIMIT, default_wait=timedelta(hours=1)),
    2207050: Rule(PermanentError, "Your Instagram account is restricted or inactive. Please open the "
                                  "Instagram app to fix it, then retry."),
    2207051: Rule(PermanentError, "Instagram blocked this post as suspicious activity. Please open the "
                                  "Instagram app and check your account before trying again."),
    2207052: Rule(PermanentError, "Instagram could not download the video. Please try again; if it keeps "
                                  "happening, contact support."),
    2207053: Rule(TransientError, RETRYING),
    2207057: Rule(PermanentError, "The cover frame time is outside the video. Please pick a time within "
                                  "the video's length."),
    # Newer subcodes, seen in production by Postiz (gitroomhq/postiz-app instagram.provider.ts) and
    # listed on https://developers.facebook.com/documentation/instagram-platform/instagram-graph-api/reference/error-codes
    2207018: Rule(PermanentError, "Instagram did not accept a collaborator. Please check the usernames "
                                  "(without @) and try again."),
    2207077: Rule(TransientError, "Instagram could not download the video. We'll retry automatically."),
    # Processing failures a standard re-encode fixes (e.g. an audio track Instagram cannot read).
    2207082: Rule(UnsupportedVideoFormat, "Instagram could not process this video's sound or picture track. "
                                          "Please export it as MP4 (H.264 video, AAC audio) and try again."),
    2207085: Rule(UnsupportedVideoFormat, "Instagram could not process this video's format, length or "
                                          "resolution. Please check them against Instagram's Reels rules."),
}

RULES_BY_CODE: dict[int, Rule] = {
    -2: Rule(TransientError, "Instagram timed out downloading the video. We'll retry automatically."),
    -1: Rule(TransientError, RETRYING),
    1: Rule(TransientError, RETRYING),
    2: Rule(TransientError, RETRYING),
    4: Rule(QuotaError, RATE_LIMITED),
    9: Rule(QuotaError, DAILY_LIMIT, default_wait=timedelta(hours=1)),
    10: Rule(PermanentError, NO_PERMISSION),
    17: Rule(QuotaError, RATE_LIMITED),
    24: Rule(PermanentError, "Instagram could not find the video it was given. Please try again."),
    25: Rule(PermanentError, "Your Instagram account is restricted or inactive. Please open the "
                             "Instagram app to fix it, then retry."),
    32: Rule(QuotaError, RATE_LIMITED),
    100: Rule(PermanentError, "Instagram refused the post's settings. Please check the caption and "
                              "options, then try again."),
    102: Rule(AuthError, RECONNECT),
    104: Rule(AuthError, RECONNECT),
    190: Rule(AuthError, RECONNECT),
    341: Rule(QuotaError, RATE_LIMITED, default_wait=timedelta(hours=1)),
    352: Rule(UnsupportedVideoFormat, UNSUPPORTED_FORMAT),
    368: Rule(PermanentError, "Instagram has temporarily blocked posting from this account for a policy "
                              "reason. Please check the Instagram app, then retry later."),
    506: Rule(PermanentError, "Instagram says this exact post was already published."),
    613: Rule(QuotaError, RATE_LIMITED),
    9004: Rule(PermanentError, "Instagram could not download the video. Please try again; if it keeps "
                               "happening, contact support."),
    9007: Rule(TransientError, "Instagram is still processing the video. We'll publish it when it's ready."),
    36000: Rule(PermanentError, "The cover image is larger than Instagram allows (8 MB). "
                                "Please use a smaller JPEG cover."),
    36001: Rule(PermanentError, "Instagram does not accept this cover image format. Please use a JPEG cover."),
    36003: Rule(PermanentError, "Instagram does not accept the cover image's shape. "
                                "Please use a vertical 9:16 cover."),
    36004: Rule(PermanentError, "The caption is too long for Instagram (2,200 characters, 30 hashtags, "
                                "20 @mentions). Please shorten it."),
}

RULES_BY_RANGE: dict[tuple[int, int], Rule] = {
    (200, 299): Rule(PermanentError, NO_PERMISSION),
    (80001, 80009): Rule(QuotaError, RATE_LIMITED),
}

TABLE = ErrorTable(
    "instagram",
    by_subcode=RULES_BY_SUBCODE,
    by_code=RULES_BY_CODE,
    by_range=RULES_BY_RANGE,
    fallback=Rule(PermanentError, "Instagram refused this post. Please check the video and caption, "
                                  "then try again."),
    server_error=Rule(TransientError, RETRYING),
)

# Subcodes found in a container's ERROR status ("Error: 2207026"), where recreating
# the container is the fix rather than failing the post.
RECREATE_CONTAINER_SUBCODES = frozenset({2207001, 2207003, 2207008, 2207020, 2207032, 2207053})


def error_class(code: str) -> type[PlatformError] | None:
    """How a Graph code ("190") is classified (the OAuth mechanism asks too); None when not listed."""
    return TABLE.error_class(code)
