"""Where Facebook's Reels feed cuts a Reel's description off behind "more"."""

from __future__ import annotations

from shared.platforms.profiles import NOT_DOCUMENTED, FeedCutoff

# Meta documents no number for organic Reels. The 72 characters third parties quote
# (https://lettercounter.org/blog/facebook-instagram-ads-character-limits) are the primary text of ads
# placed in Reels (Meta's Ads Guide), a different surface; the 125-140 quoted for Facebook
# (https://kompozy.io/specs/facebook-feed-caption-character-limit) is the news feed, not Reels.
FEED_CUTOFF = FeedCutoff(
    chars=None,
    source=f"{NOT_DOCUMENTED}: Meta publishes no number for Reels captions (72 characters is its figure for ads "
           "in Reels)")
