"""Which stored file a platform gets, and making converted copies when needed (EC-2).

A video keeps its original. When the original breaks a platform's fixable rules
(codec, chroma, audio, fast start, frame rate, bitrate, resolution), `prepare_for`
converts it once and stores it beside the original; `rendition_for` then hands that
platform the converted file.

Each platform declares an encode profile (`shared/platforms/<key>/media_profile.py`);
`encode_for` turns it into the encode settings (never above the product's own bitrate
cap, CONVERT_MAX_BITRATE_BPS). Platforms whose settings come out equal share one copy:
rendition `converted` for the canonical encode, `converted:<key>` (named after the first
platform, by key, that has it) for each other one. So a post to four platforms makes
one copy per distinct encode, not one per platform.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from psycopg.types.json import Jsonb

from shared.config import load
from shared.db import Database
from shared.log import get_logger
from shared.media.convert import EncodeSettings, transcode
from shared.media.covers import chosen_offset, cover_kind, frame_image
from shared.media.probe import Probe
from shared.media.settings import MediaSettings
from shared.media.validate import validate
from shared.platforms import adapter_class, adapters, cover_frame, encode_profile
from shared.storage import Storage, StoredMedia

log = get_logger(__name__)
CONVERTED = "converted"
CONVERTED_VERTICAL = "converted:vertical"


def _product_encode() -> EncodeSettings:
    # Read when a copy is planned (about a millisecond, against seconds of encoding), so this module
    # needs nothing from the application above it.
    return load(MediaSettings).encode_settings()


def encode_for(platform: str, base: EncodeSettings | None = None) -> EncodeSettings:
    """The encode of a converted copy for `platform`: its profile on top of the product's settings."""
    base = base or _product_encode()
    profile = encode_profile(platform)
    cap = base.max_bitrate_bps if profile.max_bitrate_bps is None else min(base.max_bitrate_bps,
                                                                          profile.max_bitrate_bps)
    return replace(base, max_bitrate_bps=cap, max_fps=min(base.max_fps, profile.max_fps),
                   audio_rate_hz=profile.audio_rate_hz, audio_bitrate_bps=profile.audio_bitrate_bps,
                   h264_profile=profile.h264_profile, h264_level=profile.h264_level, faststart=profile.faststart)


def conversion_kind(platform: str, base: EncodeSettings | None = None) -> str:
    """The rendition kind holding `platform`'s converted copy; equal encodes share one kind."""
    base = base or _product_encode()
    settings = encode_for(platform, base)
    if settings == base:
        return CONVERTED
    sharing = sorted(key for key in adapters() if encode_for(key, base) == settings)
    return f"{CONVERTED}:{sharing[0]}"


def rendition_path(video: Mapping[str, Any], name: str) -> str:
    """Renditions live in the original's folder: `<user>/<video>/<name>`."""
    return posixpath.join(posixpath.dirname(str(video["storage_path"])), name)


def _video(conn: Any, video_id: str) -> dict[str, Any]:
    row = conn.execute(
        "select id, user_id, storage_path, probe, deleted_at from videos where id = %s", (video_id,)
    ).fetchone()
    if row is None or row["deleted_at"] is not None:
        raise LookupError(f"video {video_id} not found")
    return dict(row)


def _renditions(conn: Any, video_id: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "select kind, storage_path, content_type, probe from video_renditions where video_id = %s", (video_id,)
    ).fetchall()
    return {row["kind"]: dict(row) for row in rows}


def needs_conversion(probe: Mapping[str, Any] | Probe | None, platform: str) -> bool:
    """True when the original breaks a rule of `platform` that converting fixes."""
    if not probe:
        return False
    adapter = adapter_class(platform)
    verdict = validate(probe, adapter.limits, platform=adapter.display_name)
    return any(problem.fixable for problem in verdict.problems)


def rendition_for(video: Mapping[str, Any], platform: str, *, db: Database,
                  renditions: Mapping[str, Mapping[str, Any]] | None = None, refused: bool = False) -> str:
    """The storage path to publish `video` (a videos row) to `platform` (adapter key).

    The converted copy when the original needs one (or the platform `refused` the original)
    and it exists; otherwise the original. `renditions` (kind -> row), when the caller
    already read them, saves a lookup.
    """
    if not refused and not needs_conversion(video.get("probe"), platform):
        return str(video["storage_path"])
    if renditions is not None:
        found = renditions
    else:
        with db.service() as conn:
            found = _renditions(conn, str(video["id"]))
    # A vertical crop was asked for by the user (canonical encode, fit for every platform): it wins.
    chosen = found.get(CONVERTED_VERTICAL) or found.get(conversion_kind(platform))
    return str(chosen["storage_path"]) if chosen else str(video["storage_path"])


def convert_video(
    video_id: str,
    *,
    db: Database,
    storage: Storage,
    settings: EncodeSettings | None = None,
    crop_to_vertical: bool = False,
    platform: str | None = None,
) -> dict[str, Any]:
    """Convert once and store the rendition (idempotent); returns its row.

    With `platform`, the copy has that platform's encode (`encode_for`) and kind (`conversion_kind`), so
    platforms with equal encodes reuse it; without, the canonical encode (`settings` or the product's).
    """
    if crop_to_vertical or platform is None:
        kind = CONVERTED_VERTICAL if crop_to_vertical else CONVERTED
    else:
        kind = conversion_kind(platform, settings)
        settings = encode_for(platform, settings)
    with db.service() as conn:
        video = _video(conn, video_id)
        existing = _renditions(conn, video_id).get(kind)
    if existing is not None:
        return existing
    source_probe = Probe.from_dict(video["probe"]) if video.get("probe") else None
    fd, temp_path = tempfile.mkstemp(suffix=".mp4", prefix="convert-")
    os.close(fd)
    try:
        with storage.open(str(video["storage_path"])) as source:
            probe = transcode(source, temp_path, settings=settings, crop_to_vertical=crop_to_vertical,
                              source_probe=source_probe)
        path = rendition_path(video, kind.replace(":", "-") + ".mp4")
        stored = storage.put_file(path, temp_path, "video/mp4")
    finally:
        os.unlink(temp_path)
    with db.service() as conn:
        row = conn.execute(
            "insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes, probe) "
            "values (%s, %s, %s, %s, 'video/mp4', %s, %s) "
            "on conflict (video_id, kind) do update set storage_path = excluded.storage_path, "
            "size_bytes = excluded.size_bytes, probe = excluded.probe "
            "returning kind, storage_path, content_type, probe",
            (video_id, video["user_id"], kind, stored.path, stored.size, Jsonb(probe.to_dict())),
        ).fetchone()
    log.info("video converted", video_id=video_id, kind=kind, size=stored.size)
    assert row is not None
    return dict(row)


def prepare_for(
    video_id: str, platform: str, *, db: Database, storage: Storage,
    settings: EncodeSettings | None = None,
) -> str:
    """Like `rendition_for`, but converts first when the platform needs it and no copy exists yet."""
    with db.service() as conn:
        video = _video(conn, video_id)
    if needs_conversion(video.get("probe"), platform):
        convert_video(video_id, db=db, storage=storage, settings=settings, platform=platform)
    return rendition_for(video, platform, db=db)


def media_for_target(
    target: Mapping[str, Any], *, db: Database, storage: Storage,
    ttl_seconds: int | None = None, video: Mapping[str, Any] | None = None,
    renditions: Mapping[str, Mapping[str, Any]] | None = None, say: Callable[[str], None] | None = None,
) -> tuple[StoredMedia, StoredMedia | None]:
    """(video, cover) for a publish_targets row: fits `Runtime.media` of the publishing pipeline.

    `video` (the post's videos row, or None when it is gone) and `renditions` (kind -> row),
    when the caller already read them (the publish worker does, in its claim transaction),
    save a transaction; without them both are looked up here. `say` tells the user (the
    pipeline writes the target's message) that the video is being converted first.
    """
    platform = str(target["platform"])
    if video is None or renditions is None:
        with db.service() as conn:
            video = conn.execute(
                "select v.id, v.user_id, v.storage_path, v.probe, v.original_filename, v.content_type, "
                "v.deleted_at from posts p join videos v on v.id = p.video_id where p.id = %s",
                (target["post_id"],),
            ).fetchone()
            renditions = _renditions(conn, str(video["id"])) if video is not None else {}
    if video is None or video["deleted_at"] is not None:
        raise LookupError("the video of this post is no longer stored")
    kind = conversion_kind(platform)
    if needs_conversion(video.get("probe"), platform) and not (
        renditions.get(CONVERTED_VERTICAL) or renditions.get(kind)
    ):
        # EC-2: a file our validator knows the platform refuses is converted before its first upload.
        if say is not None:
            say(converting_message(platform))
        renditions = {**renditions, kind: convert_video(str(video["id"]), db=db, storage=storage, platform=platform)}
    # After the platform refused the file (the worker converted it), the converted copy goes out.
    refused = bool((target.get("step_data") or {}).get("converted"))
    path = rendition_for(video, platform, db=db, renditions=renditions, refused=refused)
    filename = video["original_filename"] if path == video["storage_path"] else None
    media = storage.media_source(path, ttl_seconds, content_type=video["content_type"] if filename else "video/mp4",
                                 filename=filename or posixpath.basename(path))
    cover_row = renditions.get(cover_kind(platform))
    cover = None
    if cover_row is not None:
        cover = storage.media_source(
            str(cover_row["storage_path"]), ttl_seconds, content_type=cover_row["content_type"]
        )
    elif cover_frame(platform) == "image":
        # The platform takes only an image: the frame the post's options chose, rendered at its cover size.
        offset = chosen_offset(platform, target.get("options"))
        spec = adapter_class(platform).limits.cover
        if offset is not None and spec is not None:
            path = frame_image(storage, video, offset, spec=spec, platform=platform)
            cover = storage.media_source(path, ttl_seconds, content_type="image/jpeg")
    return media, cover


def converting_message(platform: str) -> str:
    """The PRD's words while a video is converted for a platform (EC-2)."""
    return f"Converting video for {adapter_class(platform).display_name}... this may take 30 seconds."


def convert_for_target(target: Mapping[str, Any], *, db: Database,
                       storage: Storage) -> bool:
    """Fits `Runtime.convert_for`: make the converted copy after a platform refused the file.

    True when a converted rendition now exists that differs from what was sent: False when
    the platform refused the converted copy itself (converting again would send the same file).
    """
    with db.service() as conn:
        row = conn.execute("select p.video_id, v.probe from posts p join videos v on v.id = p.video_id "
                           "where p.id = %s", (target["post_id"],)).fetchone()
    if row is None or needs_conversion(row["probe"], str(target["platform"])):
        return False
    try:
        convert_video(str(row["video_id"]), db=db, storage=storage, platform=str(target["platform"]))
    except Exception:
        log.exception("conversion failed", video_id=str(row["video_id"]))
        return False
    return True
