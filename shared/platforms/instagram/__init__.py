"""Instagram Reels (Instagram API with Instagram Login)."""

from shared.platforms.instagram.oauth import InstagramOAuth
from shared.platforms.instagram.options import Options
from shared.platforms.instagram.publisher import InstagramAdapter
from shared.platforms.instagram.settings import InstagramSettings
from shared.platforms.platform import Platform

PLATFORM = Platform(adapter=InstagramAdapter, provider=InstagramOAuth, options=Options)

__all__ = ["PLATFORM", "InstagramAdapter", "InstagramSettings"]
