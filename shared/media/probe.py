"""Probe a video with PyAV, reading only its headers and index (never the whole file).

The result is a plain dataclass stored as `videos.probe` (jsonb) and fed to `validate`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from shared.media.mp4atoms import read_layout


class NotAVideo(ValueError):
    """The file is not a video we can read."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(
            "We couldn't read this file as a video. Please upload an MP4 or MOV file exported from your editor."
        )
        self.reason = reason


@dataclass(frozen=True)
class Probe:
    container: str              # "mp4", "mov", "webm", ... (first name ffmpeg gives the format)
    video_codec: str            # "h264", "hevc", "vp9", "mpeg4", ...
    audio_codec: str | None     # None: no audio track
    width: int                  # as stored
    height: int
    rotation: int               # degrees the player turns the picture
    display_width: int          # as seen, after rotation
    display_height: int
    aspect: float               # display width / display height (9:16 = 0.5625)
    duration_s: float
    fps: float
    bitrate_bps: int
    size_bytes: int
    pix_fmt: str
    faststart: bool | None      # moov in front of mdat; None when not MP4/MOV
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    has_edit_list: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Probe:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _container_name(format_name: str, filename: str) -> str:
    names = format_name.split(",")
    if "mp4" in names or "mov" in names:
        # ffmpeg reports MP4 and MOV as the same demuxer; the extension tells them apart.
        return "mov" if filename.lower().endswith(".mov") else "mp4"
    if "webm" in names or "matroska" in names:
        return "webm" if "webm" in names and not filename.lower().endswith(".mkv") else "mkv"
    return names[0]


def probe_stream(handle: BinaryIO, size: int, filename: str = "video.mp4") -> Probe:
    """Probe an open, seekable file object of `size` bytes."""
    # PyAV is imported here, not with the module: validation reads only the Probe dataclass, and
    # the functions that validate without probing start faster without it (bench/cold_start.py).
    import av

    try:
        container = av.open(handle, mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise NotAVideo(str(exc)) from None
    try:
        if not container.streams.video:
            raise NotAVideo("no video stream")
        video = container.streams.video[0]
        ctx = video.codec_context
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = video.average_rate or video.guessed_rate or video.base_rate
        fps = float(rate) if rate else 0.0
        if container.duration:
            duration = container.duration / 1_000_000
        elif video.duration and video.time_base:
            duration = float(video.duration * video.time_base)
        else:
            duration = 0.0
        format_name = container.format.name
        bitrate = int(container.bit_rate or (size * 8 / duration if duration else 0))
        width, height = int(ctx.width), int(ctx.height)
        pix_fmt = ctx.pix_fmt or ""
        video_codec = ctx.codec.canonical_name
        audio_codec = audio.codec_context.codec.canonical_name if audio else None
        sample_rate = int(audio.codec_context.sample_rate) if audio else None
        channels = int(audio.codec_context.channels) if audio else None
    finally:
        container.close()
    if not width or not height:
        raise NotAVideo("no picture size")
    handle.seek(0)
    layout = read_layout(handle, size)
    turned = layout.rotation in (90, 270)
    display_w, display_h = (height, width) if turned else (width, height)
    return Probe(
        container=_container_name(format_name, filename),
        video_codec=video_codec,
        audio_codec=audio_codec,
        width=width,
        height=height,
        rotation=layout.rotation,
        display_width=display_w,
        display_height=display_h,
        aspect=round(display_w / display_h, 4),
        duration_s=round(duration, 3),
        fps=round(fps, 3),
        bitrate_bps=bitrate,
        size_bytes=size,
        pix_fmt=pix_fmt,
        faststart=layout.faststart,
        audio_sample_rate=sample_rate,
        audio_channels=channels,
        has_edit_list=layout.has_edit_list,
    )


def probe_file(path: str | Path) -> Probe:
    path = Path(path)
    with path.open("rb") as handle:
        return probe_stream(handle, os.fstat(handle.fileno()).st_size, path.name)


def probe_stored(storage: Any, path: str) -> Probe:
    """Probe an object in storage through ranged reads (a few hundred KB for most files)."""
    handle = storage.open(path)
    try:
        return probe_stream(handle, storage.size(path), path)
    finally:
        handle.close()
