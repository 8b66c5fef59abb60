"""Conversion per platform encode profile: one real PyAV encode per distinct profile, reused when equal."""

from __future__ import annotations

import secrets
from dataclasses import replace

import av
import pytest

from shared.media.convert import EncodeSettings
from shared.media.renditions import CONVERTED, conversion_kind, encode_for, prepare_for, rendition_for
from shared.platforms import encode_profile
from shared.storage.local import LocalStorage
from tests.media.test_renditions_covers import add_video

FAST = EncodeSettings(preset="ultrafast")
# The production preset: ultrafast turns off the High profile's tools, so x264 would write Baseline.
REAL = EncodeSettings(preset="veryfast")


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32))


def _converted_kinds(db, video_id: str) -> list[str]:
    with db.service() as conn:
        rows = conn.execute("select kind from video_renditions where video_id = %s and kind like 'converted%%' "
                            "order by kind", (video_id,)).fetchall()
    return [row["kind"] for row in rows]


def _audio_bit_rate(store, path: str) -> int:
    with store.open(path) as handle, av.open(handle) as container:
        return int(container.streams.audio[0].bit_rate)


def _h264_profile(store, path: str) -> str:
    with store.open(path) as handle, av.open(handle) as container:
        return str(container.streams.video[0].codec_context.profile)


def test_profiles_become_encode_settings_under_the_product_cap() -> None:
    assert encode_for("youtube", FAST).audio_bitrate_bps == 384_000      # YouTube's recommended stereo rate
    assert encode_for("instagram", FAST).max_bitrate_bps == FAST.max_bitrate_bps  # 25 Mbps allowed, our 12 cap
    roomy = replace(FAST, max_bitrate_bps=40_000_000)
    assert encode_for("instagram", roomy).max_bitrate_bps == 25_000_000   # never above Instagram's maximum
    assert encode_for("tiktok", roomy).max_bitrate_bps == 40_000_000      # TikTok states no cap
    assert encode_profile("facebook") == encode_profile("tiktok")
    # Equal encodes share a kind; only a different one gets its own, named after its first platform.
    assert {k: conversion_kind(k, FAST) for k in ("tiktok", "blotato", "instagram", "facebook", "youtube")} == {
        "tiktok": CONVERTED, "blotato": CONVERTED, "instagram": CONVERTED, "facebook": CONVERTED,
        "youtube": "converted:youtube"}
    assert conversion_kind("instagram", roomy) == "converted:instagram"


def test_one_encode_per_distinct_profile_reused_by_equal_ones(db, user_a, store, samples) -> None:
    video = add_video(db, store, user_a, samples["mpeg4"])
    video_id = str(video["id"])
    tiktok = prepare_for(video_id, "tiktok", db=db, storage=store, settings=REAL)
    assert tiktok.endswith("/converted.mp4")
    # Instagram and Facebook encode the same way: the TikTok copy is theirs too, nothing is encoded again.
    assert prepare_for(video_id, "instagram", db=db, storage=store, settings=REAL) == tiktok
    assert prepare_for(video_id, "facebook", db=db, storage=store, settings=REAL) == tiktok
    assert _converted_kinds(db, video_id) == [CONVERTED]

    youtube = prepare_for(video_id, "youtube", db=db, storage=store, settings=REAL)
    assert youtube.endswith("/converted-youtube.mp4") and youtube != tiktok
    assert _converted_kinds(db, video_id) == [CONVERTED, "converted:youtube"]
    assert rendition_for(video, "youtube", db=db) == youtube and rendition_for(video, "tiktok", db=db) == tiktok
    # The encodes really differ the way the profiles say: YouTube's 384 kbps audio target against 128 kbps
    # (the sample's plain tone needs far less than either, so the encoder stays below both targets).
    assert _audio_bit_rate(store, youtube) > _audio_bit_rate(store, tiktok) * 1.1
    assert _h264_profile(store, youtube) == _h264_profile(store, tiktok) == "High"
