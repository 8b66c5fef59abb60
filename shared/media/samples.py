"""Generate small, valid vertical MP4s (H.264 + AAC) so no binary media is committed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

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
) -> Path:
    """Write a test-pattern video with a tone; returns the path."""
    path = Path(path)
    options = {"movflags": "+faststart"} if container_options is None else container_options
    with av.open(str(path), mode="w", options=options) as container:
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if video_codec == "libx264":
            video.options = {"preset": "ultrafast"}  # test media: speed over size
        audio = None
        if audio_codec:
            audio = container.add_stream(audio_codec, rate=48000)
            audio.layout = "stereo"  # type: ignore[union-attr]
        frames = int(seconds * fps)
        for i in range(frames):
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
    return path
