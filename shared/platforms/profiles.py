"""Per-platform presentation and encode facts, declared as data in each platform's package.

`shared/platforms/<key>/feed.py` declares `FEED_CUTOFF` (where the feed hides the caption
behind "more"), `shared/platforms/<key>/media_profile.py` declares `ENCODE_PROFILE` (the
encode a converted copy for that platform gets) and `COVER_FRAME` (how a chosen cover frame
reaches the platform); the package's `Platform` carries them, and `shared.platforms`'s
`feed_cutoff(key)`, `encode_profile(key)` and `cover_frame(key)` answer from the registry.
Each value carries its source; an undocumented fact stays `None` with the reason, never a
guessed number.
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


# What a platform that declares nothing gets: no known feed cut-off, the product's own encode caps.
UNKNOWN_FEED_CUTOFF = FeedCutoff(chars=None, source=f"{NOT_DOCUMENTED}: the platform declares no feed cut-off")
DEFAULT_ENCODE_PROFILE = EncodeProfile(max_bitrate_bps=None, max_fps=60.0, audio_rate_hz=48_000,
                                       audio_bitrate_bps=128_000, h264_profile="high", h264_level="4.2")
