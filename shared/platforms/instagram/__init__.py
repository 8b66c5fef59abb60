"""Instagram Reels (Instagram API with Instagram Login)."""

from shared.platforms.instagram import caption_register, feed, media_profile
from shared.platforms.instagram.oauth import InstagramOAuth
from shared.platforms.instagram.options import Options
from shared.platforms.instagram.publisher import InstagramAdapter
from shared.platforms.instagram.settings import InstagramSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(
    adapter=InstagramAdapter, provider=InstagramOAuth, options=Options,
    feed_cutoff=feed.FEED_CUTOFF, encode_profile=media_profile.ENCODE_PROFILE,
    cover_frame=media_profile.COVER_FRAME, caption_register=caption_register.CAPTION_REGISTER,
)

__all__ = ["PLATFORM", "InstagramAdapter", "InstagramSettings"]
