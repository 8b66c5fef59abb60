"""Where Instagram's feed cuts a Reel's caption off behind "more"."""

from __future__ import annotations

from shared.platforms.profiles import FeedCutoff

# Meta documents no number. Third-party counters agree on about 125 characters: "Instagram won't display an
# entire 2200 character post, just the first 125 characters" (https://charactercounter.com/instagram), and
# "Instagram collapses captions at roughly 125 characters in the main feed"
# (https://toolshake.xyz/tool/caption-character-counter/).
FEED_CUTOFF = FeedCutoff(chars=125, source="https://charactercounter.com/instagram")
