"""Facebook Reels on Pages (Reels API)."""

from shared.platforms.facebook import caption_register, feed, media_profile
from shared.platforms.facebook.oauth import FacebookOAuth
from shared.platforms.facebook.options import Options
from shared.platforms.facebook.publisher import FacebookAdapter
from shared.platforms.facebook.settings import FacebookSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(
    adapter=FacebookAdapter, provider=FacebookOAuth, options=Options,
    # The upload step hands over the file's bytes (rupload): up to 15 minutes.
    dispatch_deadline_s=900,
    # Every Page of one Facebook sign-in shares the user's grant.
    shared_grant_field="fb_user_id",
    feed_cutoff=feed.FEED_CUTOFF, encode_profile=media_profile.ENCODE_PROFILE,
    cover_frame=media_profile.COVER_FRAME, caption_register=caption_register.CAPTION_REGISTER,
)

__all__ = ["PLATFORM", "FacebookAdapter", "FacebookSettings"]
