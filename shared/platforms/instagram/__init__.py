"""Instagram Reels (Instagram API with Instagram Login)."""

from shared.platforms.instagram.feed import FEED_CUTOFF
from shared.platforms.instagram.media_profile import COVER_FRAME, ENCODE_PROFILE
from shared.platforms.instagram.oauth import InstagramOAuth
from shared.platforms.instagram.options import Options
from shared.platforms.instagram.publisher import InstagramAdapter
from shared.platforms.instagram.settings import InstagramSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(adapter=InstagramAdapter, provider=InstagramOAuth, options=Options,
                    feed_cutoff=FEED_CUTOFF, encode_profile=ENCODE_PROFILE, cover_frame=COVER_FRAME)

__all__ = ["PLATFORM", "InstagramAdapter", "InstagramSettings"]
