"""Custom thumbnails (FR-12): a user's JPG/PNG or a frame of the video, fitted per platform.

The image is centre-cropped to the platform's cover shape and resized to its
`limits.cover` size (e.g. 1080x1920 vertical), saved as JPEG and stored as rendition
`cover:<platform>`; `media_for_target` hands it to the adapter as `PublishJob.cover`.

A cover chosen by time (`cover_offset_seconds` in a post's options) reaches each platform
its own way (`shared/platforms/<key>/media_profile.py` COVER_FRAME): TikTok and Instagram
take the time; YouTube takes only an image, so `frame_image` renders that frame fitted to
its cover size and the pipeline sends it. The same file is what the preview shows.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

import av
from PIL import Image, ImageOps, UnidentifiedImageError
from psycopg.types.json import Jsonb

from shared.db import Database
from shared.platforms import adapters, options_model
from shared.platforms.base import CoverSpec
from shared.storage import Storage, StoredMedia
from shared.storage.base import video_folder

MAX_USER_IMAGE_BYTES = 2 * 1024 * 1024
# A frame shown as it is (no platform cover size): at most this box, like the largest cover.
FRAME_BOX = (1080, 1920)
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class CoverError(ValueError):
    """The image can't be used as a cover; the message says why in plain words."""


def cover_kind(platform: str) -> str:
    return f"cover:{platform}"


def load_user_image(data: bytes) -> Image.Image:
    if len(data) > MAX_USER_IMAGE_BYTES:
        raise CoverError("Thumbnails can be up to 2 MB. Please choose a smaller JPG or PNG image.")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        raise CoverError("We couldn't read this image. Please upload a JPG or PNG file.") from None
    if image.format not in _FORMATS:
        raise CoverError(f"Thumbnails must be JPG or PNG; this image is {image.format or 'another format'}.")
    return ImageOps.exif_transpose(image)


def frame_at(video: Any, offset_s: float) -> Image.Image:
    """The picture shown at `offset_s` seconds (a path or a seekable file object)."""
    with av.open(video) as container:
        stream = container.streams.video[0]
        if offset_s > 0 and stream.time_base:
            container.seek(int(offset_s / stream.time_base), stream=stream, backward=True, any_frame=False)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= offset_s:
                break
        if chosen is None:
            raise CoverError("We couldn't take a picture from this video at that time. Please pick an earlier time.")
        return chosen.to_image()


def fit_cover(image: Image.Image, spec: CoverSpec) -> bytes:
    """Centre-crop and resize to `spec`, as a JPEG no larger than spec.max_bytes."""
    fitted = ImageOps.fit(image.convert("RGB"), (spec.width, spec.height), method=Image.Resampling.LANCZOS)
    for quality in (90, 80, 70, 60, 50):
        out = io.BytesIO()
        fitted.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= spec.max_bytes:
            return out.getvalue()
    raise CoverError("This thumbnail stays too large for the platform even when compressed.")


def cover_specs(platforms: Iterable[str] | None = None) -> dict[str, CoverSpec]:
    """{adapter key: cover spec} for the platforms that take a custom cover."""
    found = {key: a.limits.cover for key, a in adapters().items() if a.limits.cover is not None}
    if platforms is not None:
        wanted = set(platforms)
        found = {k: v for k, v in found.items() if k in wanted}
    return {k: v for k, v in found.items() if v is not None}


def store_covers(
    video_id: str,
    *,
    image: bytes | None = None,
    offset_s: float | None = None,
    platforms: Iterable[str] | None = None,
    specs: dict[str, CoverSpec] | None = None,
    db: Database,
    storage: Storage,
) -> dict[str, str]:
    """Make and store one cover per platform from `image` bytes or a frame at `offset_s`.

    Returns {platform: storage path}. `specs` overrides the adapters' declared sizes.
    """
    with db.service() as conn:
        video = conn.execute(
            "select id, user_id, storage_path, deleted_at from videos where id = %s", (video_id,)
        ).fetchone()
    if video is None or video["deleted_at"] is not None:
        raise LookupError(f"video {video_id} not found")
    if image is not None:
        picture = load_user_image(image)
    else:
        with storage.open(str(video["storage_path"])) as handle:
            picture = frame_at(handle, float(offset_s or 0.0))
    chosen = specs if specs is not None else cover_specs(platforms)
    folder = posixpath.dirname(str(video["storage_path"]))
    stored: dict[str, str] = {}
    for platform, spec in chosen.items():
        data = fit_cover(picture, spec)
        path = f"{folder}/cover-{platform}.jpg"
        result = storage.put(path, [data], "image/jpeg")
        with db.service() as conn:
            conn.execute(
                "insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes, probe) "
                "values (%s, %s, %s, %s, 'image/jpeg', %s, %s) on conflict (video_id, kind) do update set "
                "storage_path = excluded.storage_path, size_bytes = excluded.size_bytes, probe = excluded.probe",
                (video_id, video["user_id"], cover_kind(platform), result.path, result.size,
                 Jsonb({"width": spec.width, "height": spec.height, "source": "image" if image else "frame"})),
            )
        stored[platform] = result.path
    return stored


def cover_source(
    video_id: str, platform: str, *, db: Database, storage: Storage,
    ttl_seconds: int | None = None,
) -> StoredMedia | None:
    """The stored cover for `platform` as a MediaSource (for `PublishJob.cover`), or None."""
    with db.service() as conn:
        row = conn.execute(
            "select storage_path from video_renditions where video_id = %s and kind = %s",
            (video_id, cover_kind(platform)),
        ).fetchone()
    if row is None:
        return None
    return storage.media_source(str(row["storage_path"]), ttl_seconds, content_type="image/jpeg")


def chosen_offset(platform: str, options: Mapping[str, Any] | None) -> float | None:
    """The cover frame time (seconds) stored options choose, in the platform's own or our field; None if none."""
    if not options:
        return None
    # Stored options were checked when the post was made; constructing skips checks that need live context.
    return options_model(platform).model_construct(**dict(options)).cover_offset()


def frame_path(user_id: object, video_id: object, offset_s: float, platform: str | None = None) -> str:
    ms = round(offset_s * 1000)
    name = f"cover-{platform}-{ms}ms.jpg" if platform else f"frame-{ms}ms.jpg"
    return video_folder(user_id, video_id) + name


def frame_image(storage: Storage, video: Mapping[str, Any], offset_s: float, *, spec: CoverSpec | None = None,
                platform: str | None = None) -> str:
    """The stored JPEG of the frame at `offset_s`: fitted to `spec` (what that platform receives as its
    cover) or, without one, the frame itself. Made once per video and time, reused afterwards."""
    path = frame_path(video["user_id"], video["id"], offset_s, platform if spec is not None else None)
    if storage.exists(path):
        return path
    with storage.open(str(video["storage_path"])) as handle:
        picture = frame_at(handle, offset_s)
    if spec is not None:
        data = fit_cover(picture, spec)
    else:
        picture = picture.convert("RGB")
        picture.thumbnail(FRAME_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=85, optimize=True)
        data = out.getvalue()
    return storage.put(path, [data], "image/jpeg").path
