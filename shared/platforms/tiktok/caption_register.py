"""How suggested TikTok captions sound: our own register, far inside TikTok's limits."""

from __future__ import annotations

from shared.platforms.platform import CaptionRegister

CAPTION_REGISTER = CaptionRegister("casual and short, opens with a hook in the first words", 150, 4, voice="hook")
