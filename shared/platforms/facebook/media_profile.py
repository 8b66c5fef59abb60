"""How a converted copy for Facebook Reels is encoded; Facebook Reels take no chosen cover frame."""

from __future__ import annotations

from shared.platforms.profiles import CoverFrame, EncodeProfile

# https://developers.facebook.com/docs/video-api/guides/reels-publishing/ (video and audio settings): H.264,
# 4:2:0, fixed frame rate 24-60 FPS, closed GOP of 2-5 s; AAC-LC stereo 48 kHz at 128 kbps or more. No bitrate
# cap is stated, so the product's own cap applies.
ENCODE_PROFILE = EncodeProfile(max_bitrate_bps=None, max_fps=60.0, audio_rate_hz=48_000, audio_bitrate_bps=128_000,
                               h264_profile="high", h264_level="4.2")

# The Reels Publishing API's three steps (start, upload, finish) take no thumbnail or frame parameter (same page).
# Graph's Video Thumbnails edge (https://developers.facebook.com/docs/graph-api/reference/video/thumbnails/)
# is documented for Page videos, not for Reels, so a Reel keeps the cover Facebook picks.
COVER_FRAME: CoverFrame = None
