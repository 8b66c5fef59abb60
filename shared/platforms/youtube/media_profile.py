"""How a converted copy for YouTube Shorts is encoded, and how a chosen cover frame reaches YouTube."""

from __future__ import annotations

from shared.platforms.profiles import CoverFrame, EncodeProfile

# YouTube's recommended upload encoding settings (https://support.google.com/youtube/answer/1722171): MP4 with
# the moov atom in front, H.264 High Profile, closed GOP, 4:2:0, the recorded frame rate, 8 Mbps (24-30 fps) to
# 12 Mbps (48-60 fps) for 1080p SDR; AAC-LC 48 kHz, 384 kbps for stereo.
ENCODE_PROFILE = EncodeProfile(max_bitrate_bps=12_000_000, max_fps=60.0, audio_rate_hz=48_000,
                               audio_bitrate_bps=384_000, h264_profile="high", h264_level="4.2")

# videos.insert takes no frame time; thumbnails.set takes an image
# (https://developers.google.com/youtube/v3/docs/thumbnails/set), so the chosen frame is rendered and sent.
COVER_FRAME: CoverFrame = "image"
