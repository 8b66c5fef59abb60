"""Convert a video to an encode the platforms accept (platform-apis.md §8.4).

The canonical encode: H.264 High (level 4.2), yuv420p, constant frame rate (the
source's if 23–60 fps, else 30), closed GOP of about 2 s, AAC-LC 48 kHz stereo 128 kbps,
MP4 with the index in front (+faststart), bitrate capped well below Instagram's 25 Mbps,
scaled down to fit 1080x1920 (or 1920x1080). A platform whose encode profile
(`shared/platforms/<key>/media_profile.py`) asks for something else gets its own
`EncodeSettings` (`shared/media/renditions.py` `encode_for`). Frames stream from input
to an output file on disk, one at a time, so memory stays flat whatever the length.

The shape is never changed silently: `crop_to_vertical=True` must be asked for to
centre-crop a landscape or square video to 9:16.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np

from shared.media.probe import NotAVideo, Probe, probe_file, probe_stream


@dataclass(frozen=True)
class EncodeSettings:
    preset: str = "veryfast"
    crf: int = 21
    max_bitrate_bps: int = 12_000_000
    audio_bitrate_bps: int = 128_000
    audio_rate_hz: int = 48_000
    h264_profile: str = "high"
    h264_level: str = "4.2"
    faststart: bool = True
    max_long_side: int = 1920
    max_short_side: int = 1080
    default_fps: int = 30
    min_fps: float = 23.0
    max_fps: float = 60.0


def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


def output_size(width: int, height: int, settings: EncodeSettings) -> tuple[int, int]:
    """Scale (width, height) down to fit the long/short side limits, keeping the shape."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, settings.max_long_side / long_side, settings.max_short_side / short_side)
    return _even(width * scale), _even(height * scale)


def output_fps(fps: float, settings: EncodeSettings) -> Fraction:
    if settings.min_fps - 0.5 <= fps <= settings.max_fps + 0.5 and fps > 0:
        return Fraction(fps).limit_denominator(1001)
    return Fraction(settings.default_fps)


def _orient(image: np.ndarray, rotation: int) -> np.ndarray:
    # np.rot90 turns counter-clockwise; the player turns the picture clockwise by `rotation`.
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90))) if rotation else image


def _center_crop(image: np.ndarray, aspect: float) -> np.ndarray:
    height, width = image.shape[:2]
    if width / height > aspect:
        new_width = _even(height * aspect)
        left = (width - new_width) // 2
        return image[:, left : left + new_width]
    new_height = _even(width / aspect)
    top = (height - new_height) // 2
    return image[top : top + new_height]


def transcode(
    source: str | Path | BinaryIO,
    destination: str | Path,
    *,
    settings: EncodeSettings | None = None,
    crop_to_vertical: bool = False,
    source_probe: Probe | None = None,
) -> Probe:
    """Write the canonical encode of `source` to `destination`; returns the output's probe."""
    settings = settings or EncodeSettings()
    if source_probe is None:
        if isinstance(source, str | Path):
            source_probe = probe_file(source)
        else:
            source.seek(0, 2)
            size = source.tell()
            source.seek(0)
            source_probe = probe_stream(source, size)
            source.seek(0)
    rotation = source_probe.rotation
    crop = crop_to_vertical and source_probe.aspect > 9 / 16 + 0.01
    shown_w, shown_h = source_probe.display_width, source_probe.display_height
    if crop:
        shown_w, shown_h = (_even(shown_h * 9 / 16), shown_h) if shown_w / shown_h > 9 / 16 else (shown_w, shown_h)
    out_w, out_h = output_size(shown_w, shown_h, settings)
    fps = output_fps(source_probe.fps, settings)
    gop = max(1, int(round(float(fps) * 2)))

    try:
        src: Any = av.open(source if not isinstance(source, Path) else str(source))
    except av.FFmpegError as exc:
        raise NotAVideo(str(exc)) from None
    container_options = {"movflags": "+faststart"} if settings.faststart else {}
    with src, av.open(str(destination), mode="w", options=container_options) as out:
        in_video = src.streams.video[0]
        in_audio = src.streams.audio[0] if src.streams.audio else None
        video: Any = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = out_w, out_h, "yuv420p"
        frame_time_base = 1 / fps
        video.codec_context.time_base = frame_time_base
        video.options = {
            "preset": settings.preset,
            "crf": str(settings.crf),
            "profile": settings.h264_profile,
            "level": settings.h264_level,
            "maxrate": str(settings.max_bitrate_bps),
            "bufsize": str(settings.max_bitrate_bps * 2),
            "g": str(gop),
            "keyint_min": str(gop),
            "sc_threshold": "0",  # fixed, closed GOPs (Meta asks for them)
            "x264-params": "open-gop=0",
        }
        audio: Any = None
        resampler = None
        if in_audio is not None:
            audio = out.add_stream("aac", rate=settings.audio_rate_hz)
            audio.layout = "stereo"
            audio.bit_rate = settings.audio_bitrate_bps
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=settings.audio_rate_hz)

        streams = [in_video] + ([in_audio] if in_audio is not None else [])
        next_slot = 0                      # next output frame number
        held: av.VideoFrame | None = None  # the latest decoded (and converted) input frame
        held_time = 0.0
        audio_pts = 0

        def emit_until(time_s: float) -> None:
            # Constant frame rate: fill every output slot before time_s with the held frame.
            nonlocal next_slot
            while held is not None and next_slot / float(fps) < time_s:
                frame = held
                frame.pts = next_slot
                for packet in video.encode(frame):
                    out.mux(packet)
                next_slot += 1

        def convert_frame(frame: av.VideoFrame) -> av.VideoFrame:
            if rotation or crop:
                image = _orient(frame.to_ndarray(format="rgb24"), rotation)
                if crop:
                    image = _center_crop(image, 9 / 16)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            converted = frame.reformat(width=out_w, height=out_h, format="yuv420p")
            converted.time_base = frame_time_base
            return converted

        for packet in src.demux(*streams):
            if packet.stream.type == "video":
                frame: Any
                for frame in packet.decode():
                    if frame.pts is None or frame.time_base is None:
                        continue
                    time_s = float(frame.pts * frame.time_base)
                    emit_until(time_s)
                    held, held_time = convert_frame(frame), time_s
            elif packet.stream.type == "audio" and resampler is not None:
                for frame in packet.decode():
                    for chunk in resampler.resample(frame):
                        chunk.pts = audio_pts
                        chunk.time_base = Fraction(1, settings.audio_rate_hz)
                        audio_pts += chunk.samples
                        for out_packet in audio.encode(chunk):
                            out.mux(out_packet)
        end = max(source_probe.duration_s, held_time + 1 / float(fps))
        emit_until(end - 1e-6)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            assert resampler is not None
            for chunk in resampler.resample(None):
                chunk.pts = audio_pts
                audio_pts += chunk.samples
                for out_packet in audio.encode(chunk):
                    out.mux(out_packet)
            for out_packet in audio.encode():
                out.mux(out_packet)
    return probe_file(destination)
