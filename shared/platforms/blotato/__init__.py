"""TikTok through Blotato (key "blotato"): publishes to TikTok via Blotato's API."""

from shared.platforms.blotato.feed import FEED_CUTOFF
from shared.platforms.blotato.media_profile import COVER_FRAME, ENCODE_PROFILE
from shared.platforms.blotato.oauth import BlotatoConnect
from shared.platforms.blotato.options import Options
from shared.platforms.blotato.publisher import BlotatoAdapter
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(adapter=BlotatoAdapter, provider=BlotatoConnect, options=Options,
                    feed_cutoff=FEED_CUTOFF, encode_profile=ENCODE_PROFILE, cover_frame=COVER_FRAME)

__all__ = ["PLATFORM", "BlotatoAdapter", "BlotatoSettings"]
