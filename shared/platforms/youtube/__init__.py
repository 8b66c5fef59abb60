"""YouTube Shorts through the YouTube Data API v3 (resumable upload)."""

from shared.platforms.platform import Platform
from shared.platforms.youtube.feed import FEED_CUTOFF
from shared.platforms.youtube.media_profile import COVER_FRAME, ENCODE_PROFILE
from shared.platforms.youtube.oauth import YouTubeOAuth
from shared.platforms.youtube.options import Options
from shared.platforms.youtube.publisher import YouTubeAdapter
from shared.platforms.youtube.settings import YouTubeSettings

PLATFORM = Platform(
    feed_cutoff=FEED_CUTOFF, encode_profile=ENCODE_PROFILE, cover_frame=COVER_FRAME,
    adapter=YouTubeAdapter, provider=YouTubeOAuth, options=Options,
    # The resumable upload pushes the whole file: Cloud Tasks' full 30 minutes, fewer at once.
    dispatch_deadline_s=1800, concurrent_dispatches=5,
    # Whether the video counts as a Short (square or vertical, at most 3 minutes).
    video_checks=("shorts",),
)

__all__ = ["PLATFORM", "YouTubeAdapter", "YouTubeSettings"]
