"""Each platform package declares its feed cutoff, encode profile and cover-frame route, with a source."""

from __future__ import annotations

import pytest

from shared.platforms import adapters, cover_frame, encode_profile, feed_cutoff
from shared.platforms.profiles import NOT_DOCUMENTED


@pytest.mark.parametrize("key", sorted(adapters()))
def test_a_feed_cutoff_is_a_sourced_number_or_says_it_is_not_documented(key: str) -> None:
    cutoff = feed_cutoff(key)
    if cutoff.chars is None:
        assert cutoff.source.startswith(f"{NOT_DOCUMENTED}: ") and len(cutoff.source) > len(NOT_DOCUMENTED) + 10
    else:
        assert cutoff.chars > 0 and cutoff.source.startswith("https://")


def test_only_instagram_has_a_sourced_feed_cutoff() -> None:
    assert {key: feed_cutoff(key).chars for key in adapters()} == {
        "instagram": 125, "tiktok": None, "blotato": None, "youtube": None, "facebook": None}


@pytest.mark.parametrize("key", sorted(adapters()))
def test_every_platform_declares_an_encode_profile_within_its_media_rules(key: str) -> None:
    profile = encode_profile(key)
    rules = adapters()[key].limits.media
    assert rules.min_fps <= profile.max_fps <= rules.max_fps
    if rules.max_bitrate_bps is not None:
        assert profile.max_bitrate_bps is not None and profile.max_bitrate_bps <= rules.max_bitrate_bps
    assert profile.audio_rate_hz == 48_000 and profile.h264_profile == "high"


def test_cover_frames_reach_each_platform_its_own_way() -> None:
    assert {key: cover_frame(key) for key in adapters()} == {
        "tiktok": "offset", "blotato": "offset", "instagram": "offset", "youtube": "image", "facebook": None}
