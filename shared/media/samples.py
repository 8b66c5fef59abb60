"""Generate small test videos, good and deliberately bad, so no binary media is committed.

`make_video` writes a vertical H.264/AAC MP4 by default; its options (and `make_sample`'s
named variants) produce the off-spec files real users upload: other codecs, 4:4:4
chroma, landscape, the index at the end, odd audio, rotated phone footage. `make_long`
and `make_large` repeat an encoded clip's packets, so a 20-minute or 1 GB file takes
seconds instead of an encode.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np


def make_video(
    path: Path | str,
    *,
    seconds: float = 4.0,
    width: int = 540,
    height: int = 960,
    fps: int = 30,
    video_codec: str = "libx264",
    audio_codec: str | None = "aac",
    container_options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    video_options: dict[str, str] | None = None,
    noise: bool = False,
) -> Path:
    """Write a test-pattern video with a tone; returns the path.

    rotation: display rotation stored in the file (phones store portrait as rotated landscape).
    noise: random pixels, for large high-bitrate frames.
    """
    path = Path(path)
    options = {"movflags": "+faststart"} if container_options is None else container_options
    with av.open(str(path), mode="w", options=options) as container:
        video: Any = container.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if video_options is not None:
            video.options = video_options
        elif video_codec == "libx264":
            video.options = {"preset": "ultrafast"}  # test media: speed over size
        elif video_codec == "libvpx-vp9":
            video.options = {"deadline": "realtime", "cpu-used": "8"}
        if rotation:
            video.set_display_rotation(-rotation)  # ffmpeg's sign is counter-clockwise
        audio: Any = None
        if audio_codec:
            audio = container.add_stream(audio_codec, rate=48000)
            audio.layout = "stereo"
        frames = int(seconds * fps)
        rng = np.random.default_rng(1)
        for i in range(frames):
            if noise:
                image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            else:
                image = np.zeros((height, width, 3), dtype=np.uint8)
                image[:, :, 0] = (i * 4) % 256
                image[: height // 2, :, 1] = 200
                image[:, : width // 3, 2] = (i * 9) % 256
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            _write_tone(container, audio, seconds)
    return path


def _write_tone(container: Any, audio: Any, seconds: float) -> None:
    samples_per_frame = 1024
    total = int(seconds * 48000)
    t = 0
    while t < total:
        n = min(samples_per_frame, total - t)
        tone = (np.sin(2 * np.pi * 440 * (np.arange(t, t + n) / 48000)) * 0.2).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.vstack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = t
        frame.time_base = Fraction(1, 48000)
        for packet in audio.encode(frame):
            container.mux(packet)
        t += n
    for packet in audio.encode():
        container.mux(packet)


def repeat_clip(
    source: Path | str,
    path: Path | str,
    *,
    until: Callable[[float, int], bool],
    faststart: bool = True,
) -> Path:
    """Remux `source` (video only, every repetition starting on a keyframe) over and over.

    `until(seconds_written, bytes_written)` says when to stop. No decoding or encoding,
    so a long or very large file costs only the disk writes.
    """
    path = Path(path)
    with av.open(str(source)) as src:
        in_stream = src.streams.video[0]
        packets = [p for p in src.demux(in_stream) if p.size]
        time_base = in_stream.time_base
        rate = in_stream.average_rate
        assert time_base is not None and rate is not None
        step = int(round(1 / (float(rate) * float(time_base))))
        options = {"movflags": "+faststart"} if faststart else {}
        with av.open(str(path), mode="w", options=options) as out:
            out_stream = out.add_stream_from_template(in_stream)
            written_bytes, frame_index = 0, 0
            while True:
                for packet in packets:
                    packet.stream = out_stream
                    packet.pts = packet.dts = frame_index * step
                    packet.time_base = time_base
                    out.mux(packet)
                    written_bytes += packet.size
                    frame_index += 1
                seconds = frame_index * step * float(time_base)
                if until(seconds, written_bytes):
                    break
    return path


def make_long(path: Path | str, seconds: float, *, width: int = 540, height: int = 960) -> Path:
    """A valid vertical video at least `seconds` long (video only), in about a second."""
    path = Path(path)
    clip = make_video(path.with_suffix(".clip.mp4"), seconds=1, width=width, height=height,
                      audio_codec=None, video_options={"preset": "ultrafast", "g": "30"})
    try:
        return repeat_clip(clip, path, until=lambda s, _: s >= seconds)
    finally:
        clip.unlink(missing_ok=True)


def make_large(path: Path | str, size_bytes: int, *, faststart: bool = True) -> Path:
    """A valid 1080x1920 video of at least `size_bytes` (noise frames repeated); for benchmarks."""
    path = Path(path)
    clip = make_video(path.with_suffix(".clip.mp4"), seconds=1, width=1080, height=1920, audio_codec=None,
                      noise=True, video_options={"preset": "ultrafast", "qp": "0", "g": "30"})
    try:
        return repeat_clip(clip, path, until=lambda _, b: b >= size_bytes, faststart=faststart)
    finally:
        clip.unlink(missing_ok=True)


# Named variants: (what is wrong, make_video arguments).
SAMPLE_VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "good": ("vertical 9:16 H.264/AAC, fast start", {}),
    "mpeg4": ("MPEG-4 Part 2 video codec", {"video_codec": "mpeg4"}),
    "vp9": ("VP9 video inside MP4", {"video_codec": "libvpx-vp9", "seconds": 2.0}),
    "yuv444": ("4:4:4 chroma (most players and platforms need 4:2:0)", {"pix_fmt": "yuv444p"}),
    "landscape": ("16:9 landscape", {"width": 960, "height": 540}),
    "moov_at_end": ("index (moov) at the end of the file", {"container_options": {}}),
    "no_audio": ("no audio track", {"audio_codec": None}),
    "mp3_audio": ("MP3 audio instead of AAC", {"audio_codec": "libmp3lame"}),
    "low_fps": ("15 frames per second", {"fps": 15}),
    "rotated_portrait": ("landscape pixels with a 90° display rotation (shows as vertical)",
                         {"width": 960, "height": 540, "rotation": 90}),
    "short": ("1 second long", {"seconds": 1.0}),
}


def make_sample(kind: str, path: Path | str, **overrides: Any) -> Path:
    """Write one of SAMPLE_VARIANTS (small: 540x960, a few seconds)."""
    _, arguments = SAMPLE_VARIANTS[kind]
    return make_video(path, **{"seconds": 3.0, **arguments, **overrides})
