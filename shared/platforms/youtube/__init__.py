"""YouTube Shorts through the YouTube Data API v3 (resumable upload)."""

from shared.platforms.platform import Platform
from shared.platforms.youtube import caption_register, feed, media_profile
from shared.platforms.youtube.oauth import YouTubeOAuth
from shared.platforms.youtube.options import Options
from shared.platforms.youtube.publisher import YouTubeAdapter
from shared.platforms.youtube.settings import YouTubeSettings

PLATFORM = Platform(
    adapter=YouTubeAdapter, provider=YouTubeOAuth, options=Options,
    # The resumable upload pushes the whole file: Cloud Tasks' full 30 minutes, fewer at once.
    dispatch_deadline_s=1800, concurrent_dispatches=5,
    # Whether the video counts as a Short (square or vertical, at most 3 minutes).
    video_checks=("shorts",),
    feed_cutoff=feed.FEED_CUTOFF, encode_profile=media_profile.ENCODE_PROFILE,
    cover_frame=media_profile.COVER_FRAME, caption_register=caption_register.CAPTION_REGISTER,
)

__all__ = ["PLATFORM", "YouTubeAdapter", "YouTubeSettings"]
