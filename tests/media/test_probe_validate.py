from __future__ import annotations

import io

import pytest

from shared.media.probe import NotAVideo, Probe, probe_file, probe_stream
from shared.media.validate import shorts_eligibility, validate, verdicts_for
from shared.platforms import adapters
from shared.platforms.base import MediaRules, PlatformLimits, TextRule

REELS = PlatformLimits(
    caption=TextRule(2200),
    media=MediaRules(min_duration_s=3, max_duration_s=900, max_size_bytes=300 * 1024 * 1024, min_aspect=0.01,
                     max_aspect=10, max_width=1920, max_bitrate_bps=25_000_000, requires_faststart=True),
)
VERTICAL_ONLY = PlatformLimits(
    caption=TextRule(2200),
    media=MediaRules(min_duration_s=3, max_duration_s=90, max_size_bytes=10**9, min_aspect=0.5, max_aspect=0.6,
                     min_width=540, min_height=960),
)


def codes(verdict):
    return {problem.code for problem in verdict.problems}


def test_probe_reads_a_good_video(samples):
    probe = probe_file(samples["good"])
    assert (probe.container, probe.video_codec, probe.audio_codec, probe.pix_fmt) == ("mp4", "h264", "aac", "yuv420p")
    assert (probe.width, probe.height, probe.rotation, probe.aspect) == (540, 960, 0, 0.5625)
    assert probe.duration_s == pytest.approx(3.0, abs=0.1)
    assert probe.fps == 30 and probe.faststart is True and probe.bitrate_bps > 0
    assert probe.audio_sample_rate == 48000 and probe.audio_channels == 2
    assert Probe.from_dict(probe.to_dict()) == probe


def test_probe_sees_each_defect(samples):
    assert probe_file(samples["mpeg4"]).video_codec == "mpeg4"
    assert probe_file(samples["vp9"]).video_codec == "vp9"
    assert probe_file(samples["yuv444"]).pix_fmt == "yuv444p"
    assert probe_file(samples["landscape"]).aspect == pytest.approx(16 / 9, abs=0.01)
    assert probe_file(samples["moov_at_end"]).faststart is False
    assert probe_file(samples["no_audio"]).audio_codec is None
    assert probe_file(samples["mp3_audio"]).audio_codec == "mp3"
    assert probe_file(samples["low_fps"]).fps == 15
    rotated = probe_file(samples["rotated_portrait"])
    assert (rotated.width, rotated.height, rotated.rotation) == (960, 540, 90)
    assert (rotated.display_width, rotated.display_height, rotated.aspect) == (540, 960, 0.5625)
    assert probe_file(samples["long_16min"]).duration_s > 960


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = super().readinto(buffer)
        self.bytes_read += n
        return n


def test_probe_reads_only_a_small_part_of_the_file(samples):
    data = samples["long_16min"].read_bytes()
    reader = CountingReader(data)
    probe = probe_stream(reader, len(data), "long.mp4")
    assert probe.duration_s > 960
    assert reader.bytes_read < len(data) / 10


def test_not_a_video_is_refused_plainly(tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_bytes(b"these are not the frames you are looking for" * 100)
    with pytest.raises(NotAVideo) as refused:
        probe_file(junk)
    assert "MP4 or MOV" in str(refused.value)


def test_good_video_validates_everywhere(samples):
    probe = probe_file(samples["good"])
    assert validate(probe, REELS, platform="Instagram Reels").ok
    assert validate(probe, VERTICAL_ONLY, platform="Facebook Reels").ok
    for key, verdict in verdicts_for(probe).items():
        assert verdict["ok"], (key, verdict["problems"])


@pytest.mark.parametrize(
    ("kind", "code"),
    [("mpeg4", "video_codec"), ("vp9", "video_codec"), ("yuv444", "pixel_format"), ("moov_at_end", "faststart"),
     ("mp3_audio", "audio_codec"), ("low_fps", "fps")],
)
def test_fixable_problems_are_marked_fixable(samples, kind, code):
    verdict = validate(probe_file(samples[kind]), REELS, platform="Instagram Reels")
    assert not verdict.ok
    assert code in codes(verdict)
    assert all(problem.fixable for problem in verdict.problems if problem.code == code)
    assert verdict.needs_conversion or kind == "vp9"  # the vp9 sample is also too short for Reels


def test_length_and_shape_are_not_fixable_and_said_plainly(samples):
    too_long = validate(probe_file(samples["long_16min"]), REELS, platform="Instagram Reels")
    [problem] = [p for p in too_long.problems if p.code == "too_long"]
    assert problem.message.startswith("Instagram Reels videos must be 3 s to 15 min; this video is 16 min")
    assert not problem.fixable

    landscape = validate(probe_file(samples["landscape"]), VERTICAL_ONLY, platform="Facebook Reels")
    assert "aspect" in codes(landscape)
    assert "resolution_too_small" not in codes(landscape)  # its shape is the problem, not its pixel count
    assert not any(p.fixable for p in landscape.problems)
    assert "landscape" in next(p.message for p in landscape.problems if p.code == "aspect")

    short = validate(probe_file(samples["short"]), REELS, platform="Instagram Reels")
    assert codes(short) == {"too_short"}


def test_bitrate_and_size_limits():
    probe = Probe(container="mp4", video_codec="h264", audio_codec="aac", width=1080, height=1920, rotation=0,
                  display_width=1080, display_height=1920, aspect=0.5625, duration_s=60, fps=30,
                  bitrate_bps=40_000_000, size_bytes=400 * 1024 * 1024, pix_fmt="yuv420p", faststart=True)
    verdict = validate(probe, REELS, platform="Instagram Reels")
    assert codes(verdict) == {"bitrate", "too_large"}
    assert "25 Mbps" in next(p.message for p in verdict.problems if p.code == "bitrate")


def test_youtube_shorts_eligibility(samples):
    assert shorts_eligibility(probe_file(samples["good"])).ok
    assert shorts_eligibility(probe_file(samples["rotated_portrait"])).ok
    assert {p.code for p in shorts_eligibility(probe_file(samples["landscape"])).problems} == {"aspect"}
    assert {p.code for p in shorts_eligibility(probe_file(samples["long_16min"])).problems} == {"too_long"}


def test_verdicts_cover_every_registered_adapter(samples):
    verdicts = verdicts_for(probe_file(samples["good"]).to_dict())
    assert set(verdicts) == set(adapters())
    for key, adapter in adapters().items():
        assert verdicts[key]["platform"] == adapter.display_name
