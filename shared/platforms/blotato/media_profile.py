"""Blotato hands the file to TikTok: TikTok's encode, and the frame time as TikTok's own cover field."""

from __future__ import annotations

from shared.platforms.profiles import CoverFrame
from shared.platforms.tiktok.media_profile import ENCODE_PROFILE

# The TikTok target's videoCoverTimestamp (milliseconds), mapped onto TikTok's video_cover_timestamp_ms
# (https://help.blotato.com/platform-publishing/platforms/tiktok).
COVER_FRAME: CoverFrame = "offset"

__all__ = ["COVER_FRAME", "ENCODE_PROFILE"]
