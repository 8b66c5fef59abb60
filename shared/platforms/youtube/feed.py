"""Where the YouTube Shorts feed cuts the description off behind "more"."""

from __future__ import annotations

from shared.platforms.profiles import NOT_DOCUMENTED, FeedCutoff

# YouTube documents no number. The Shorts player shows the title over the video; the description opens only in
# its own panel. The 100-150 characters third parties give (https://lettercounter.org/blog/youtube-shorts-description)
# are the watch page's preview of long videos, not the Shorts feed.
FEED_CUTOFF = FeedCutoff(
    chars=None,
    source=f"{NOT_DOCUMENTED}: the Shorts feed shows the title; the description opens in its own panel")
