"""YouTube Shorts through the YouTube Data API v3 (resumable upload)."""

from shared.platforms.youtube.publisher import YouTubeAdapter
from shared.platforms.youtube.settings import SANDBOX_ENV, YouTubeSettings

__all__ = ["SANDBOX_ENV", "YouTubeAdapter", "YouTubeSettings"]
