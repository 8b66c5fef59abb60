"""How a converted copy for TikTok is encoded, and how a chosen cover frame reaches TikTok."""

from __future__ import annotations

from shared.platforms.profiles import CoverFrame, EncodeProfile

# https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide (video restrictions): MP4/WebM/MOV,
# H.264 recommended, 23-60 FPS, 360-4096 px. TikTok states no bitrate cap and no audio rate, so the product's own
# caps apply (max_bitrate_bps None; AAC 48 kHz 128 kbps).
ENCODE_PROFILE = EncodeProfile(max_bitrate_bps=None, max_fps=60.0, audio_rate_hz=48_000, audio_bitrate_bps=128_000,
                               h264_profile="high", h264_level="4.2")

# post_info.video_cover_timestamp_ms: TikTok takes the frame time itself
# (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post).
COVER_FRAME: CoverFrame = "offset"
