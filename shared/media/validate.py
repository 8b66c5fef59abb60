"""Check a probed video against a platform's declared limits, in plain words.

`validate(probe, limits)` returns a Verdict whose problems say what is wrong and whether
we can fix it by converting the file (codec, chroma, audio, fast start, frame rate,
bitrate, oversized resolution) or the user has to (length, shape, file size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.media.probe import Probe
from shared.platforms.base import MediaRules, PlatformLimits

# Every platform asks for 4:2:0 chroma (IG/FB say so; YouTube and TikTok recommend it).
ACCEPTED_PIXEL_FORMATS = ("yuv420p", "yuvj420p", "nv12")
SHORTS_MAX_SECONDS = 180.0

_CODEC_NAMES = {"h264": "H.264", "hevc": "H.265 (HEVC)", "vp9": "VP9", "vp8": "VP8", "av1": "AV1",
                "mpeg4": "MPEG-4 Part 2", "aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Vorbis",
                "prores": "ProRes", "mjpeg": "Motion JPEG"}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    fixable: bool


@dataclass(frozen=True)
class Verdict:
    ok: bool
    problems: list[Problem] = field(default_factory=list)

    @property
    def needs_conversion(self) -> bool:
        """Every problem can be fixed by converting the file."""
        return bool(self.problems) and all(p.fixable for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "needs_conversion": self.needs_conversion,
                "problems": [asdict(p) for p in self.problems]}


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes = seconds / 60
    if seconds % 60 == 0 or minutes >= 10:
        return f"{minutes:.0f} min"
    return f"{int(seconds // 60)} min {int(round(seconds % 60))} s"


def _name(codec: str | None) -> str:
    return _CODEC_NAMES.get(codec or "", (codec or "unknown").upper())


def _names(codecs: Iterable[str]) -> str:
    names = [_name(c) for c in codecs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _shape(aspect: float) -> str:
    if aspect < 0.95:
        return "vertical"
    return "square" if aspect <= 1.05 else "landscape"


def _aspect_rule(rules: MediaRules) -> str:
    if rules.max_aspect <= 0.6:
        return "vertical 9:16"
    if rules.max_aspect <= 1.05:
        return "square or vertical"
    return f"between {rules.min_aspect:g}:1 and {rules.max_aspect:g}:1"


def _as_probe(probe: Probe | Mapping[str, Any]) -> Probe:
    return probe if isinstance(probe, Probe) else Probe.from_dict(dict(probe))


def validate(probe: Probe | Mapping[str, Any], limits: PlatformLimits, *, platform: str = "This platform") -> Verdict:
    """Which rules of `limits.media` the video breaks; `platform` names it in the messages."""
    p = _as_probe(probe)
    rules = limits.media
    problems: list[Problem] = []

    def add(code: str, message: str, fixable: bool) -> None:
        problems.append(Problem(code, message, fixable))

    # What only the user can change: length, shape, file size, too-small pictures.
    if p.duration_s < rules.min_duration_s or p.duration_s > rules.max_duration_s:
        code = "too_short" if p.duration_s < rules.min_duration_s else "too_long"
        add(code, f"{platform} videos must be {duration_text(rules.min_duration_s)} to "
                  f"{duration_text(rules.max_duration_s)}; this video is {duration_text(p.duration_s)}. "
                  f"Please {'use a longer' if code == 'too_short' else 'trim it or use a shorter'} video.", False)
    wrong_shape = not rules.min_aspect - 0.01 <= p.aspect <= rules.max_aspect + 0.01
    if wrong_shape:
        add("aspect", f"This video is {_shape(p.aspect)} ({p.display_width}x{p.display_height}); {platform} needs "
                      f"a {_aspect_rule(rules)} video. Please export it in a vertical format.", False)
    # The minimum size is a vertical one: a landscape video is told about its shape, not its pixels.
    if not wrong_shape and (p.display_width < rules.min_width or p.display_height < rules.min_height):
        add("resolution_too_small", f"{platform} needs at least {rules.min_width}x{rules.min_height} pixels; "
                                    f"this video is {p.display_width}x{p.display_height}. "
                                    "Please export it at a higher resolution.", False)
    if p.size_bytes > rules.max_size_bytes:
        from shared.storage.base import human_size

        add("too_large", f"{platform} accepts files up to {human_size(rules.max_size_bytes)}; this one is "
                         f"{human_size(p.size_bytes)}. Please export a smaller file.", False)

    # What converting the file fixes.
    if p.container not in rules.containers:
        add("container", f"{platform} needs an {_names(c.upper() for c in rules.containers)} file; this is "
                         f"{p.container.upper()}. We can convert it for you.", True)
    if p.video_codec not in rules.video_codecs:
        add("video_codec", f"{platform} needs {_names(rules.video_codecs)} video; this file uses "
                           f"{_name(p.video_codec)}. We can convert it for you.", True)
    if p.audio_codec is not None and p.audio_codec not in rules.audio_codecs:
        add("audio_codec", f"{platform} needs {_names(rules.audio_codecs)} audio; this file uses "
                           f"{_name(p.audio_codec)}. We can convert it for you.", True)
    if p.pix_fmt not in ACCEPTED_PIXEL_FORMATS:
        add("pixel_format", f"{platform} needs standard 4:2:0 colour; this file uses {p.pix_fmt}. "
                            "We can convert it for you.", True)
    if not rules.min_fps - 0.5 <= p.fps <= rules.max_fps + 0.5:
        add("fps", f"{platform} needs {rules.min_fps:g} to {rules.max_fps:g} frames per second; this video has "
                   f"{p.fps:g}. We can convert it for you.", True)
    if rules.max_bitrate_bps and p.bitrate_bps > rules.max_bitrate_bps:
        add("bitrate", f"{platform} accepts up to {rules.max_bitrate_bps / 1e6:g} Mbps; this video has "
                       f"{p.bitrate_bps / 1e6:.1f} Mbps. We can convert it for you.", True)
    too_wide = rules.max_width is not None and p.display_width > rules.max_width
    too_tall = rules.max_height is not None and p.display_height > rules.max_height
    if too_wide or too_tall:
        add("resolution_too_large", f"{platform} accepts up to {rules.max_width or '∞'}x{rules.max_height or '∞'} "
                                    f"pixels; this video is {p.display_width}x{p.display_height}. "
                                    "We can scale it down for you.", True)
    if rules.requires_faststart and p.faststart is False:
        add("faststart", f"{platform} needs the video's index at the start of the file (fast start). "
                         "We can rewrite it for you.", True)
    return Verdict(ok=not problems, problems=problems)


def shorts_eligibility(probe: Probe | Mapping[str, Any]) -> Verdict:
    """YouTube classifies an upload as a Short when it is ≤3 min and square or vertical."""
    p = _as_probe(probe)
    problems = []
    if p.duration_s > SHORTS_MAX_SECONDS:
        problems.append(Problem("too_long", f"YouTube only treats videos up to 3 min as Shorts; this one is "
                                            f"{duration_text(p.duration_s)}. It would appear as a regular video.",
                                False))
    if p.aspect > 1.05:
        problems.append(Problem("aspect", f"YouTube only treats square or vertical videos as Shorts; this one is "
                                          f"landscape ({p.display_width}x{p.display_height}). It would appear as a "
                                          "regular video.", False))
    return Verdict(ok=not problems, problems=problems)


def verdicts_for(probe: Probe | Mapping[str, Any], adapters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{adapter key: verdict dict with the platform's name} for every platform (and Shorts eligibility)."""
    # Cold start: probing a video must not load every platform package before it is needed.
    from shared.platforms.registry import registry

    if adapters is None:
        adapters = {platform.key: platform.adapter for platform in registry()}
    result: dict[str, Any] = {}
    for key, adapter in sorted(adapters.items()):
        verdict = validate(probe, adapter.limits, platform=adapter.display_name)
        entry = {"platform": adapter.display_name, **verdict.to_dict()}
        described = registry().get(key)
        for check in described.video_checks if described else ():
            entry[check] = EXTRA_CHECKS[check](probe).to_dict()
        result[key] = entry
    return result


# Checks beyond a platform's limits, by the name a descriptor lists in `video_checks`.
EXTRA_CHECKS: dict[str, Callable[[Probe | Mapping[str, Any]], Verdict]] = {"shorts": shorts_eligibility}
