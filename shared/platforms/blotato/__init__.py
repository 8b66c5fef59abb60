"""TikTok through Blotato (key "blotato"): publishes to TikTok via Blotato's API."""

from shared.platforms.blotato.publisher import BlotatoAdapter
from shared.platforms.blotato.settings import SANDBOX_ENV, BlotatoSettings

__all__ = ["SANDBOX_ENV", "BlotatoAdapter", "BlotatoSettings"]
