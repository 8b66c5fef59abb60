"""Instagram Reels (Instagram API with Instagram Login)."""

from shared.platforms.instagram.publisher import InstagramAdapter
from shared.platforms.instagram.settings import SANDBOX_ENV, InstagramSettings

__all__ = ["SANDBOX_ENV", "InstagramAdapter", "InstagramSettings"]
