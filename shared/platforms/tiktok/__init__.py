"""TikTok Direct Post (key "tiktok"): the Content Posting API with our own TikTok app."""

from shared.platforms.platform import Platform
from shared.platforms.tiktok import caption_register, feed, media_profile
from shared.platforms.tiktok.creator import live_account_info, settings_at_publish
from shared.platforms.tiktok.oauth import TikTokOAuth
from shared.platforms.tiktok.options import Options
from shared.platforms.tiktok.publisher import TikTokAdapter
from shared.platforms.tiktok.settings import TikTokSettings

PLATFORM = Platform(
    adapter=TikTokAdapter, provider=TikTokOAuth, options=Options,
    # FILE_UPLOAD pushes the whole file: Cloud Tasks' full 30 minutes, fewer at once.
    dispatch_deadline_s=1800, concurrent_dispatches=10,
    live_account_info=live_account_info, live_settings=settings_at_publish,
    feed_cutoff=feed.FEED_CUTOFF, encode_profile=media_profile.ENCODE_PROFILE,
    cover_frame=media_profile.COVER_FRAME, caption_register=caption_register.CAPTION_REGISTER,
)

__all__ = ["PLATFORM", "TikTokAdapter", "TikTokSettings"]
