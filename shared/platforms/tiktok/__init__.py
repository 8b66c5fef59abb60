"""TikTok Direct Post (key "tiktok"): the Content Posting API with our own TikTok app."""

from shared.platforms.tiktok.publisher import TikTokAdapter
from shared.platforms.tiktok.settings import SANDBOX_ENV, TikTokSettings

__all__ = ["SANDBOX_ENV", "TikTokAdapter", "TikTokSettings"]
