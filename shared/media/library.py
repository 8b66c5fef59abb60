"""The media a frontend shows and manages: signed links, a poster frame per video, deletion.

Links are short-lived signed URLs (the storage's `signed_url`), made at read time, so a
list or a detail view can play the video, its converted copies and its covers without
the bucket ever being public.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.log import get_logger
from shared.responses import CoverLink, MediaLink, RenditionLink, VideoDeleted, VideoMedia
from shared.storage import Storage
from shared.storage.base import video_folder

log = get_logger(__name__)

POSTER = "poster"
COVER_PREFIX = "cover:"
# Long enough to start playing and to render a list; short enough that a leaked link soon dies.
MEDIA_URL_SECONDS = 15 * 60
POSTER_WIDTH = 360
# The default poster frame: a second in (past a fade-in), or the middle of a shorter video.
POSTER_OFFSET_S = 1.0
FINAL_STATES = ("published", "failed", "canceled")


def poster_offset(duration_s: float | None) -> float:
    if not duration_s:
        return 0.0
    return min(POSTER_OFFSET_S, duration_s / 2)


def make_poster(db: Database, storage: Storage, video: Mapping[str, Any], offset_s: float | None = None) -> str | None:
    """Store a JPEG of one frame next to the video (kind `poster`); None when no frame could be read."""
    # Imported here: the frame grabber (PyAV, Pillow) costs ~100 modules (~0.5 s) of cold start that the
    # video list, detail and delete never need, nor the calendar (publish-video) that reads this module's names.
    from PIL import Image

    from shared.media.covers import CoverError, frame_at

    duration = (video.get("probe") or {}).get("duration_s")
    offset = poster_offset(duration) if offset_s is None else offset_s
    try:
        with storage.open(str(video["storage_path"])) as handle:
            picture = frame_at(handle, offset)
    except (CoverError, OSError, ValueError) as exc:
        # A poster is a convenience: a file we can probe but not decode keeps its upload.
        log.warning("no poster frame", video_id=str(video["id"]), error=type(exc).__name__)
        return None
    picture = picture.convert("RGB")
    picture.thumbnail((POSTER_WIDTH, POSTER_WIDTH * 4), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80, optimize=True)
    path = posixpath.join(posixpath.dirname(str(video["storage_path"])), "poster.jpg")
    stored = storage.put(path, [out.getvalue()], "image/jpeg")
    with db.service() as conn:
        conn.execute(
            "insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes, probe) "
            "values (%s, %s, %s, %s, 'image/jpeg', %s, %s) on conflict (video_id, kind) do update set "
            "storage_path = excluded.storage_path, size_bytes = excluded.size_bytes, probe = excluded.probe",
            (video["id"], video["user_id"], POSTER, stored.path, stored.size,
             Jsonb({"width": picture.width, "height": picture.height, "offset_s": offset})),
        )
    return stored.path


def _link(storage: Storage, path: str, size: int | None, expires_at: str) -> dict[str, Any]:
    return {"url": storage.signed_url(path, MEDIA_URL_SECONDS), "size_bytes": size, "expires_at": expires_at}


def media_links(storage: Storage, video: Mapping[str, Any], renditions: Iterable[Mapping[str, Any]],
                now: datetime) -> VideoMedia:
    """Signed URLs of the video, its converted copies, covers and poster, with their sizes."""
    expires_at = (now + timedelta(seconds=MEDIA_URL_SECONDS)).isoformat()
    poster: MediaLink | None = None
    copies: list[RenditionLink] = []
    covers: list[CoverLink] = []
    for row in renditions:
        kind = str(row["kind"])
        link = _link(storage, str(row["storage_path"]), row.get("size_bytes"), expires_at)
        if kind == POSTER:
            poster = MediaLink(**link)
        elif kind.startswith(COVER_PREFIX):
            covers.append(CoverLink(platform=kind.removeprefix(COVER_PREFIX), **link))
        else:
            copies.append(RenditionLink(kind=kind, **link))
    video_link = MediaLink(**_link(storage, str(video["storage_path"]), video.get("size_bytes"), expires_at))
    return VideoMedia(video=video_link, renditions=copies, covers=covers, poster=poster)


def delete_video(db: Database, storage: Storage, claims: Mapping[str, Any], video_id: str,
                 now: datetime) -> VideoDeleted:
    """Remove a video, its converted copies, covers and poster from storage; refused while a post needs it."""
    with db.user(claims) as conn:
        video = conn.execute("select id, storage_path, deleted_at from videos where id = %s", (video_id,)).fetchone()
        if video is None or video["deleted_at"] is not None:
            raise NotFound("We couldn't find that video.", code="video_not_found")
        waiting = conn.execute(
            "select t.platform from publish_targets t join posts p on p.id = t.post_id "
            "where p.video_id = %s and t.state <> all(%s) order by t.platform", (video_id, list(FINAL_STATES)),
        ).fetchall()
    if waiting:
        platforms = sorted({row["platform"] for row in waiting})
        raise Conflict("This video can't be deleted yet: a post still needs it. Wait until it is published, "
                       "or cancel it first.", code="video_in_use", detail={"platforms": platforms})
    with db.service() as conn:
        # Locked and checked again: a post created meanwhile keeps its video.
        conn.execute("select id from videos where id = %s for update", (video_id,))
        if conn.execute("select 1 from publish_targets t join posts p on p.id = t.post_id "
                        "where p.video_id = %s and t.state <> all(%s)", (video_id, list(FINAL_STATES))).fetchone():
            raise Conflict("This video can't be deleted yet: a post was just created for it.", code="video_in_use")
        paths = [row["storage_path"] for row in conn.execute(
            "delete from video_renditions where video_id = %s returning storage_path", (video_id,)).fetchall()]
        paths.append(video["storage_path"])
        # Frames and time-chosen covers have no rendition row: they live in the video's own folder.
        paths += [item.path for item in storage.list(video_folder(claims["sub"], video_id))]
        paths = list(dict.fromkeys(str(path) for path in paths))
        for path in paths:
            storage.delete(path)
        conn.execute("update videos set deleted_at = %s where id = %s", (now, video_id))
    log.info("video deleted", video_id=video_id, objects=len(paths))
    return VideoDeleted(video_id=video_id, deleted=True, objects_removed=len(paths))
