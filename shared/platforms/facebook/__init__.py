"""Facebook Reels on Pages (Reels API)."""

from shared.platforms.facebook.publisher import FacebookAdapter
from shared.platforms.facebook.settings import SANDBOX_ENV, FacebookSettings

__all__ = ["SANDBOX_ENV", "FacebookAdapter", "FacebookSettings"]
