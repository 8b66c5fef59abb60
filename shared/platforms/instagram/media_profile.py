"""How a converted copy for Instagram Reels is encoded, and how a chosen cover frame reaches Instagram."""

from __future__ import annotations

from shared.platforms.profiles import CoverFrame, EncodeProfile

# Reel specifications of the IG User Media reference
# (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications):
# MOV/MP4 with the moov atom in front, H.264 or HEVC, closed GOP, 4:2:0, 23-60 FPS, VBR at most 25 Mbps,
# AAC at most 48 kHz, 128 kbps audio.
ENCODE_PROFILE = EncodeProfile(max_bitrate_bps=25_000_000, max_fps=60.0, audio_rate_hz=48_000,
                               audio_bitrate_bps=128_000, h264_profile="high", h264_level="4.2")

# thumb_offset (milliseconds) on the media container: Instagram takes the frame time itself (same page).
COVER_FRAME: CoverFrame = "offset"
