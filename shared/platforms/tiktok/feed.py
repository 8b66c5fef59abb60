"""Where TikTok's feed cuts a caption off behind "more"."""

from __future__ import annotations

from shared.platforms.profiles import NOT_DOCUMENTED, FeedCutoff

# TikTok documents no number, and the third-party figures disagree too widely to pick one:
# about 150 (https://www.tooleagle.com/answers/tiktok-caption-length), 100-150
# (https://napoleoncat.com/dictionary/tiktok-character-count), 80
# (https://utilhq.pages.dev/articles/tiktok-character-limits-guide), 55-60
# (https://lettercounter.org/blog/tiktok-character-limit-guide). The cut follows the line count on the screen.
FEED_CUTOFF = FeedCutoff(
    chars=None,
    source=f"{NOT_DOCUMENTED}: TikTok publishes no number; third-party estimates range from 55 to 150 characters "
           "and the cut depends on the screen")
