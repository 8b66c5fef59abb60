"""Per-platform presentation and encode facts, declared as data in each platform's package.

`shared/platforms/<key>/feed.py` declares `FEED_CUTOFF` (where the feed hides the caption
behind "more"), `shared/platforms/<key>/media_profile.py` declares `ENCODE_PROFILE` (the
encode a converted copy for that platform gets) and `COVER_FRAME` (how a chosen cover frame
reaches the platform); the package's `Platform` descriptor carries them, and generic code asks
`shared.platforms.feed_cutoff(key)` etc. Each value carries its source; an undocumented fact
stays `None` with the reason, never a guessed number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NOT_DOCUMENTED = "not documented"

# How a cover frame chosen by time reaches a platform:
#   "offset": the platform takes the time itself (TikTok video_cover_timestamp_ms, Instagram thumb_offset);
#   "image":  the platform takes only an image, so the frame is rendered and sent as one (YouTube thumbnails.set);
#   None:     the platform's API takes no custom cover (the option is refused when the post is created).
CoverFrame = Literal["offset", "image"] | None


@dataclass(frozen=True)
class FeedCutoff:
    """Characters of the caption a feed shows before "more"; `chars` is None when no source gives one."""

    chars: int | None
    source: str  # a URL, or NOT_DOCUMENTED with the reason


@dataclass(frozen=True)
class EncodeProfile:
    """The encode of a converted copy for one platform, from the platform's published video specs.

    Two platforms with equal profiles share one converted file (`shared/media/renditions.py`).
    """

    # None: the platform states no cap, so the product's own cap (CONVERT_MAX_BITRATE_BPS) applies.
    max_bitrate_bps: int | None
    max_fps: float
    audio_rate_hz: int
    audio_bitrate_bps: int
    h264_profile: Literal["high", "main", "baseline"]
    # 4.2 unless a platform asks for another: the lowest H.264 level that carries 1080x1920 at 60 fps.
    h264_level: str
    faststart: bool = True


# Not documented anywhere: what a platform's descriptor says when its package declares no cut-off.
UNDOCUMENTED_FEED = FeedCutoff(chars=None, source=f"{NOT_DOCUMENTED}: the platform publishes no number")
