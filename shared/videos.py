"""The video service: upload, register, import, list and look up a user's videos.

Every way in ends the same: the file is in storage under `<user_id>/<video_id>/`, it was
probed (headers only), a `videos` row holds the probe, and the caller gets
`{video_id, probe, verdicts}` where verdicts say, per platform, whether the video can be
published as is, after conversion, or not at all (and why, in plain words).
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from shared.db import Database
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge, Unavailable
from shared.log import get_logger
from shared.media.library import POSTER, make_poster, media_links
from shared.media.probe import NotAVideo, Probe, probe_stored
from shared.media.retention import age_out_rule, removal_times
from shared.media.url_import import ImportRefused, Resolver, UrlPolicy, open_url, system_resolver
from shared.media.validate import verdicts_for
from shared.responses import Rendition, VideoDetail, VideoList, VideoView
from shared.storage import ObjectTooLarge, Storage, StorageError
from shared.storage.base import clean_path, human_size
from shared.storage.settings import StorageSettings
from shared.video_context import VideoContext

log = get_logger(__name__)

VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".m4v": "video/mp4", ".webm": "video/webm",
               ".mkv": "video/x-matroska"}


def use_register_error(limit: int, size: int) -> TooLarge:
    """A video allowed in size, but too big to send through the upload request itself."""
    return TooLarge(f"Files over {human_size(limit)} can't be sent to POST /videos (this one is {human_size(size)}). "
                    "Upload the file to storage into the folder named after your user id, then add it with "
                    "POST /videos/register.", code="upload_through_storage",
                    detail={"max_request_bytes": limit, "register": "/videos/register"})


def too_large_error(limit: int, size: int | None = None) -> TooLarge:
    limit_text = human_size(limit)
    size_text = f" This one is {human_size(size)}." if size else ""
    if size and human_size(size) == limit_text:
        # Rounded, both read "1 GB": say it in bytes, so the answer never contradicts itself.
        limit_text = f"{limit_text} ({limit:,} bytes)"
        size_text = f" This one is {size:,} bytes."
    return TooLarge(f"Videos can be up to {limit_text}.{size_text} Please export a shorter or smaller "
                    "version and try again. Large files go straight to storage and are added with "
                    "POST /videos/register.", code="video_too_large", detail={"max_bytes": limit})


def duration_seconds(probe: Mapping[str, Any] | None) -> float | None:
    """How long a video is, from its probe."""
    value = (probe or {}).get("duration_s")
    return float(value) if isinstance(value, (int, float)) else None


# What a probe failure says in `detail`: the kind of problem, never the server's file paths.
_NOT_A_VIDEO_REASONS = ("no video stream", "no picture size")


def _extension(filename: str | None, content_type: str | None) -> str:
    ext = posixpath.splitext((filename or "").lower())[1]
    if ext in VIDEO_TYPES:
        return ext
    for known, mime in VIDEO_TYPES.items():
        if content_type and content_type.split(";")[0].strip().lower() == mime:
            return known
    return ".mp4"


def _fields(row: Mapping[str, Any], renditions: Iterable[Mapping[str, Any]], storage: Storage,
            now: datetime) -> dict[str, Any]:
    """What VideoView and VideoDetail share, from the video's row and its renditions."""
    probe = row.get("probe")
    return {
        "media": media_links(storage, row, renditions, now),
        "video_id": str(row["id"]),
        "filename": row.get("original_filename"),
        "size_bytes": row.get("size_bytes"),
        "storage_path": row.get("storage_path"),
        "created_at": row["created_at"].isoformat() if row.get("created_at") else None,
        "probe": probe,
        "verdicts": verdicts_for(probe) if probe else {},
        "context": VideoContext.from_row(row),
    }


def _record(
    db: Database, storage: Storage, *, video_id: str, user_id: str, path: str, filename: str | None,
    content_type: str, sha256: str | None, context: VideoContext | None = None, now: datetime,
) -> VideoView:
    """Probe the stored file and write its row; the file is removed if it is not a video."""
    try:
        probe: Probe = probe_stored(storage, path)
    except NotAVideo as exc:
        storage.delete(path)
        reason = exc.reason if exc.reason in _NOT_A_VIDEO_REASONS else "not a video file we can read"
        raise InvalidInput(str(exc), code="not_a_video", detail={"reason": reason}) from None
    with db.service() as conn:
        row = conn.execute(
            "insert into videos (id, user_id, storage_path, original_filename, content_type, size_bytes, sha256, "
            "probe, generation_prompt, description, brand, language) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "returning id, storage_path, original_filename, content_type, size_bytes, sha256, probe, "
            "created_at, deleted_at, generation_prompt, description, brand, language",
            (video_id, user_id, path, filename, content_type, probe.size_bytes, sha256, Jsonb(probe.to_dict()),
             *(context or VideoContext()).column_values()),
        ).fetchone()
    assert row is not None
    log.info("video stored", video_id=video_id, size=probe.size_bytes, codec=probe.video_codec,
             duration_s=probe.duration_s)
    poster = make_poster(db, storage, {**row, "user_id": user_id})
    posters = [{"kind": POSTER, "storage_path": poster, "size_bytes": storage.size(poster)}] if poster else []
    return VideoView(**_fields(row, posters, storage, now))


def upload_video(
    user_id: str,
    chunks: Iterable[bytes],
    *,
    filename: str | None = None,
    content_type: str | None = None,
    content_length: int | None = None,
    context: VideoContext | None = None,
    db: Database,
    storage: Storage,
    settings: StorageSettings,
    now: datetime,
) -> VideoView:
    """Stream an upload into storage and record it. 413 before reading when Content-Length is too big."""
    limit = settings.max_video_bytes
    if content_length is not None and content_length > limit:
        raise too_large_error(limit, content_length)
    video_id = str(uuid.uuid4())
    ext = _extension(filename, content_type)
    path = f"{user_id}/{video_id}/original{ext}"
    try:
        stored = storage.put(path, chunks, VIDEO_TYPES[ext], max_bytes=limit)
    except ObjectTooLarge:
        raise too_large_error(limit) from None
    except StorageError as exc:
        raise Unavailable(str(exc), code="storage_unavailable") from None
    if stored.size == 0:
        storage.delete(path)
        raise InvalidInput("The upload was empty. Please choose a video file and try again.", code="empty_upload")
    return _record(db, storage, video_id=video_id, user_id=user_id, path=stored.path,
                   filename=posixpath.basename(filename) if filename else None, content_type=VIDEO_TYPES[ext],
                   sha256=stored.sha256, context=context, now=now)


def register_video(
    user_id: str, path: str, *, filename: str | None = None, context: VideoContext | None = None,
    db: Database, storage: Storage, settings: StorageSettings, now: datetime,
) -> VideoView:
    """Record a file the user already put in storage (e.g. a direct TUS upload) under their own folder."""
    try:
        path = clean_path(path)
    except StorageError as exc:
        raise InvalidInput(str(exc), code="invalid_path") from None
    if path.split("/")[0] != user_id:
        raise Forbidden("You can only add videos from your own upload folder.", code="not_your_file")
    if not storage.exists(path):
        raise NotFound("We couldn't find that file in storage. Please upload it again.", code="file_not_found")
    size = storage.size(path)
    if size > settings.max_video_bytes:
        storage.delete(path)
        raise too_large_error(settings.max_video_bytes, size)
    with db.service() as conn:
        taken = conn.execute("select 1 from videos where storage_path = %s", (path,)).fetchone()
    if taken:
        raise Conflict("This video has already been added.", code="already_registered")
    ext = _extension(filename or path, None)
    return _record(db, storage, video_id=str(uuid.uuid4()), user_id=user_id, path=path,
                   filename=filename or posixpath.basename(path), content_type=VIDEO_TYPES[ext], sha256=None,
                   context=context, now=now)


def import_video(
    user_id: str,
    url: str,
    *,
    policy: UrlPolicy,
    resolver: Resolver = system_resolver,
    context: VideoContext | None = None,
    db: Database,
    storage: Storage,
    settings: StorageSettings,
    now: datetime,
) -> VideoView:
    """Fetch a video from a public URL (SSRF-checked at every hop) and record it."""
    try:
        with open_url(url, policy, resolver=resolver) as download:
            return upload_video(user_id, download.chunks, filename=download.filename,
                                content_type=download.content_type, content_length=download.content_length,
                                context=context, db=db, storage=storage, settings=settings, now=now)
    except ImportRefused as exc:
        log.info("import refused", reason=exc.reason)
        kind = TooLarge if exc.reason == "too large" else InvalidInput
        raise kind(exc.message, code="import_refused") from None


def list_videos(claims: Mapping[str, Any], *, db: Database, storage: Storage, settings: StorageSettings,
                now: datetime, limit: int = 100) -> VideoList:
    """The signed-in user's videos, newest first (RLS decides what is visible)."""
    with db.user(claims) as conn:
        rows = conn.execute(
            "select id, storage_path, original_filename, content_type, size_bytes, sha256, probe, created_at, "
            "deleted_at, generation_prompt, description, brand, language from videos where deleted_at is null "
            "order by created_at desc limit %s",
            (limit,),
        ).fetchall()
        renditions = conn.execute(
            "select video_id, kind, storage_path, size_bytes from video_renditions where video_id = any(%s) "
            "order by kind", ([row["id"] for row in rows],),
        ).fetchall()
        removal = removal_times(conn, [str(row["id"]) for row in rows], now,
                                age_out_rule(settings))
    by_video: dict[Any, list[Mapping[str, Any]]] = {}
    for rendition in renditions:
        by_video.setdefault(rendition["video_id"], []).append(rendition)
    return VideoList(videos=[
        VideoView(**_fields(row, by_video.get(row["id"], ()), storage, now), removal_at=_iso(removal[str(row["id"])]))
        for row in rows])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def get_video(claims: Mapping[str, Any], video_id: str, *, db: Database, storage: Storage,
              settings: StorageSettings, now: datetime) -> VideoDetail:
    try:
        uuid.UUID(video_id)
    except ValueError:
        raise NotFound("We couldn't find that video.", code="video_not_found") from None
    with db.user(claims) as conn:
        row = conn.execute(
            "select id, storage_path, original_filename, content_type, size_bytes, sha256, probe, created_at, "
            "deleted_at, generation_prompt, description, brand, language from videos where id = %s",
            (video_id,),
        ).fetchone()
        renditions = conn.execute(
            "select kind, storage_path, content_type, size_bytes, created_at from video_renditions "
            "where video_id = %s order by kind",
            (video_id,),
        ).fetchall()
        removal = removal_times(conn, [video_id], now,
                                age_out_rule(settings))[video_id] if row is not None else None
    if row is None or row["deleted_at"] is not None:
        raise NotFound("We couldn't find that video. It may have been deleted after publishing.",
                       code="video_not_found")
    return VideoDetail(
        **_fields(row, renditions, storage, now), removal_at=_iso(removal),
        renditions=[Rendition(kind=r["kind"], content_type=r["content_type"], size_bytes=r["size_bytes"])
                    for r in renditions],
    )
