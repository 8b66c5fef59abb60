"""TikTok through Blotato (key "blotato"): publishes to TikTok via Blotato's API."""

from shared.platforms.blotato import caption_register, feed, media_profile
from shared.platforms.blotato.oauth import BlotatoConnect
from shared.platforms.blotato.options import Options
from shared.platforms.blotato.publisher import BlotatoAdapter
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(
    adapter=BlotatoAdapter, provider=BlotatoConnect, options=Options,
    feed_cutoff=feed.FEED_CUTOFF, encode_profile=media_profile.ENCODE_PROFILE,
    cover_frame=media_profile.COVER_FRAME, caption_register=caption_register.CAPTION_REGISTER,
)

__all__ = ["PLATFORM", "BlotatoAdapter", "BlotatoSettings"]
