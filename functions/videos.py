"""Videos API: upload, register, import, list, look up, convert, covers.

POST /videos                    raw video bytes as the body (streamed, not multipart);
                                Content-Type video/mp4|video/quicktime|video/webm,
                                optional X-Filename header with the original file name,
                                optional ?prompt=&description=&brand=&language= context → 201
POST /videos/register           {"path": "<user_id>/…", "filename"?, "context"?} a file already in storage → 201
DELETE /videos/<id>              the video, its copies, covers and poster (409 while a post needs it)
POST /videos/import             {"url": "https://…", "context"?} fetch from a public URL → 201
GET  /videos                    the user's videos
GET  /videos/<id>               one video with probe, verdicts and renditions
POST /videos/<id>/convert       {"crop_to_vertical"?: false} make the converted copy now
POST /videos/<id>/cover         raw JPG/PNG body (≤ 2 MB), or JSON {"offset_seconds": 1.5};
                                ?platforms=youtube,instagram limits which covers are made
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import flask
from pydantic import Field

from shared import videos as service
from shared.api.strict import StrictModel, UserText
from shared.app import application
from shared.captions.context import VideoContext
from shared.http import ApiError, User, json_body, query_args, user_endpoint
from shared.media.library import delete_video
from shared.publishing.requests import Platform

_READ = 1024 * 1024


class RegisterBody(StrictModel):
    path: UserText = Field(min_length=1, max_length=1024)
    filename: UserText | None = Field(default=None, max_length=255)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ImportBody(StrictModel):
    url: UserText = Field(min_length=8, max_length=4096)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ConvertBody(StrictModel):
    crop_to_vertical: bool = False


class CoverFromFrame(StrictModel):
    offset_seconds: float = Field(default=0.0, ge=0, le=24 * 3600, allow_inf_nan=False,
                                  description="Seconds into the video; must be within the video")


class CoverQuery(StrictModel):
    platforms: UserText | None = Field(default=None, max_length=200, pattern=r"^[a-z,]*$",
                                       description="Comma-separated platforms to make covers for; empty: all")

    def platform_list(self) -> list[str] | None:
        chosen = [p for p in (self.platforms or "").split(",") if p]
        unknown = [p for p in chosen if p not in Platform.__args__]  # type: ignore[attr-defined]
        if unknown:
            raise ApiError(422, "invalid_request", f"Please check your request: platforms: unknown platform "
                           f"{unknown[0]!r}; use {', '.join(Platform.__args__)}",  # type: ignore[attr-defined]
                           [{"field": "platforms", "problem": f"unknown platform {unknown[0]!r}"}])
        return chosen or None


def _body_chunks(request: flask.Request) -> Iterator[bytes]:
    stream = request.stream
    while chunk := stream.read(_READ):
        yield chunk


def _video_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(404, "video_not_found", "We couldn't find that video.") from None


def _owned_video(user: User, video_id: str) -> dict[str, Any]:
    app = application()
    # 404 unless RLS shows it to this user
    return service.get_video(user.claims, video_id, db=app.database, storage=app.storage)


def _upload(request: flask.Request, user: User) -> tuple[dict[str, Any], int]:
    if request.mimetype in ("application/json", "multipart/form-data"):
        raise ApiError(415, "send_raw_video", "Please send the video file itself as the request body "
                       "(Content-Type video/mp4), with its name in the X-Filename header.")
    length = request.content_length
    limit = service.max_video_bytes()
    if length is not None and length > limit:
        raise service.too_large_error(limit, length)  # before a single byte is read or stored
    request_limit = service.max_upload_request_bytes()
    if length is not None and length > request_limit:
        raise service.use_register_error(request_limit, length)  # Cloud Run would cut it off anyway
    context = query_args(request, VideoContext)  # the body is the file: context rides the query
    result = service.upload_video(user.id, _body_chunks(request), filename=request.headers.get("X-Filename"),
                                  content_type=request.mimetype, content_length=length, context=context,
                                  db=application().database, storage=application().storage)
    return result, 201


def _cover(request: flask.Request, user: User, video_id: str) -> dict[str, Any]:
    from shared.media.covers import CoverError, store_covers

    app = application()
    video = _owned_video(user, video_id)
    platforms = query_args(request, CoverQuery).platform_list()
    if request.mimetype.startswith("image/") and request.mimetype not in ("image/jpeg", "image/png"):
        raise ApiError(415, "invalid_cover", "Use a JPG or PNG image for the cover.",
                       {"content_type": request.mimetype})
    try:
        if request.mimetype in ("image/jpeg", "image/png"):
            if (request.content_length or 0) > 2 * 1024 * 1024:
                raise CoverError("Thumbnails can be up to 2 MB. Please choose a smaller JPG or PNG image.")
            covers = store_covers(video_id, image=request.stream.read(2 * 1024 * 1024 + 1), platforms=platforms,
                                  db=app.database, storage=app.storage)
        else:
            body = json_body(request, CoverFromFrame)
            duration = service.duration_seconds(video)
            if duration is not None and body.offset_seconds > duration:
                raise CoverError(f"The cover frame must be within the video: it is {duration:g} seconds long, "
                                 f"so choose an offset from 0 to {duration:g}.")
            covers = store_covers(video_id, offset_s=body.offset_seconds, platforms=platforms,
                                  db=app.database, storage=app.storage)
    except CoverError as exc:
        raise ApiError(422, "invalid_cover", str(exc)) from None
    return {"video_id": video_id, "covers": sorted(covers)}


def _convert(request: flask.Request, user: User, video_id: str) -> dict[str, Any]:
    from shared.media.renditions import convert_video

    app = application()
    _owned_video(user, video_id)
    body = json_body(request, ConvertBody)
    row = convert_video(video_id, db=app.database, storage=app.storage, settings=app.media_settings.encode_settings(),
                        crop_to_vertical=body.crop_to_vertical)
    return {"video_id": video_id, "kind": row["kind"], "probe": row["probe"]}


@user_endpoint
def videos(request: flask.Request, user: User) -> Any:
    parts = [p for p in request.path.split("/") if p]
    if parts and parts[0] == "videos":
        parts = parts[1:]
    method = request.method
    app = application()
    if not parts:
        if method == "POST":
            return _upload(request, user)
        if method == "GET":
            return {"videos": service.list_videos(user.claims, db=app.database, storage=app.storage)}
    elif parts == ["register"] and method == "POST":
        body = json_body(request, RegisterBody)
        return service.register_video(user.id, body.path, filename=body.filename, context=body.context,
                                      db=app.database, storage=app.storage), 201
    elif parts == ["import"] and method == "POST":
        imported = json_body(request, ImportBody)
        policy = app.media_settings.url_policy(service.max_video_bytes(), is_local=app.settings.is_local)
        return service.import_video(user.id, imported.url, policy=policy, context=imported.context,
                                    db=app.database, storage=app.storage), 201
    elif len(parts) == 1 and method == "GET":
        return _owned_video(user, parts[0])
    elif len(parts) == 1 and method == "DELETE":
        return delete_video(app.database, app.storage, user.claims, _video_id(parts[0]))
    elif len(parts) == 2 and parts[1] == "cover" and method == "POST":
        return _cover(request, user, parts[0])
    elif len(parts) == 2 and parts[1] == "convert" and method == "POST":
        return _convert(request, user, parts[0])
    raise ApiError(404, "not_found", "There is nothing at this address.")
