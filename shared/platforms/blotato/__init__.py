"""TikTok through Blotato (key "blotato"): publishes to TikTok via Blotato's API."""

from shared.platforms.blotato.oauth import BlotatoConnect
from shared.platforms.blotato.options import Options
from shared.platforms.blotato.publisher import BlotatoAdapter
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(adapter=BlotatoAdapter, provider=BlotatoConnect, options=Options)

__all__ = ["PLATFORM", "BlotatoAdapter", "BlotatoSettings"]
