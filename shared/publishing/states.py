"""Target states and the retry policy, in one place."""

from __future__ import annotations

SCHEDULED = "scheduled"
QUEUED = "queued"
UPLOADING = "uploading"
PROCESSING = "processing"
PUBLISHING = "publishing"
PUBLISHED = "published"
FAILED = "failed"
NEEDS_RECONNECT = "needs_reconnect"
DEFERRED = "deferred"
RECONCILING = "reconciling"
CANCELED = "canceled"

TERMINAL = frozenset({PUBLISHED, FAILED, CANCELED})
# States in which a task may advance the target (the tick's safety net watches these).
RUNNABLE = frozenset({SCHEDULED, QUEUED, UPLOADING, PROCESSING, PUBLISHING, DEFERRED, RECONCILING})
# Not yet started: the user may still edit or cancel.
NOT_STARTED = frozenset({SCHEDULED})

# Transient failures retry after 1, 5 and 15 minutes, then the target fails, unless the
# outcome of an irreversible call is unknown: then the platform is asked again, for a
# bounded time (PublishingSettings.reconcile_hours), and nothing is resent blindly.
RETRY_DELAYS_SECONDS = (60, 300, 900)
MAX_RETRIES = len(RETRY_DELAYS_SECONDS)


def retry_delay(failed_attempts: int) -> float | None:
    """Delay before retry number `failed_attempts` (1-based), or None when out of retries."""
    if 1 <= failed_attempts <= MAX_RETRIES:
        return float(RETRY_DELAYS_SECONDS[failed_attempts - 1])
    return None


def checking_message(platform: str) -> str:
    """What the user reads while we ask the platform whether a call took effect."""
    return f"We're checking with {platform} whether your video went live."


def unconfirmed_message(platform: str) -> str:
    """The final word when the platform never told us whether the video went live."""
    return (
        f"We couldn't confirm with {platform} whether your video went live. Please check your "
        f"{platform} profile: if the video is there, there is nothing more to do; if it is not, "
        "press Retry (we check once more before sending it again)."
    )
