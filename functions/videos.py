"""Videos API: upload, register, import, list, look up, convert, covers.

POST /videos                    raw video bytes as the body (streamed, not multipart);
                                Content-Type video/mp4|video/quicktime|video/webm,
                                optional X-Filename header with the original file name,
                                optional ?prompt=&description=&brand=&language= context → 201
POST /videos/register           {"path": "<user_id>/…", "filename"?, "context"?} a file already in storage → 201
POST /videos/import             {"url": "https://…", "context"?} fetch from a public URL → 201
GET  /videos                    the user's videos
GET  /videos/<id>               one video with probe, verdicts and renditions
POST /videos/<id>/convert       {"crop_to_vertical"?: false} make the converted copy now
POST /videos/<id>/cover         raw JPG/PNG body (≤ 2 MB), or JSON {"offset_seconds": 1.5};
                                ?platforms=youtube,instagram limits which covers are made
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
from pydantic import BaseModel, Field

from shared import videos as service
from shared.captions.context import VideoContext
from shared.db import database
from shared.http import ApiError, User, json_body, user_endpoint

_READ = 1024 * 1024


class RegisterBody(BaseModel):
    path: str = Field(min_length=1, max_length=1024)
    filename: str | None = Field(default=None, max_length=255)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ImportBody(BaseModel):
    url: str = Field(min_length=8, max_length=4096)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ConvertBody(BaseModel):
    crop_to_vertical: bool = False


class CoverFromFrame(BaseModel):
    offset_seconds: float = Field(default=0.0, ge=0)


def _body_chunks(request: flask.Request) -> Iterator[bytes]:
    stream = request.stream
    while chunk := stream.read(_READ):
        yield chunk


def _owned_video(user: User, video_id: str) -> dict[str, Any]:
    return service.get_video(user.claims, video_id)  # 404 unless RLS shows it to this user


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
    context = VideoContext.model_validate(request.args.to_dict())  # the body is the file: context rides the query
    result = service.upload_video(user.id, _body_chunks(request), filename=request.headers.get("X-Filename"),
                                  content_type=request.mimetype, content_length=length, context=context)
    return result, 201


def _cover(request: flask.Request, user: User, video_id: str) -> dict[str, Any]:
    from shared.media.covers import CoverError, store_covers

    _owned_video(user, video_id)
    platforms = [p for p in request.args.get("platforms", "").split(",") if p] or None
    try:
        if request.mimetype in ("image/jpeg", "image/png"):
            if (request.content_length or 0) > 2 * 1024 * 1024:
                raise CoverError("Thumbnails can be up to 2 MB. Please choose a smaller JPG or PNG image.")
            covers = store_covers(video_id, image=request.stream.read(2 * 1024 * 1024 + 1), platforms=platforms)
        else:
            body = json_body(request, CoverFromFrame)
            covers = store_covers(video_id, offset_s=body.offset_seconds, platforms=platforms)
    except CoverError as exc:
        raise ApiError(422, "invalid_cover", str(exc)) from None
    return {"video_id": video_id, "covers": sorted(covers)}


def _convert(request: flask.Request, user: User, video_id: str) -> dict[str, Any]:
    from shared.media.renditions import convert_video
    from shared.media.settings import media_settings

    _owned_video(user, video_id)
    body = json_body(request, ConvertBody)
    row = convert_video(video_id, settings=media_settings().encode_settings(),
                        crop_to_vertical=body.crop_to_vertical)
    return {"video_id": video_id, "kind": row["kind"], "probe": row["probe"]}


@user_endpoint
def videos(request: flask.Request, user: User) -> Any:
    parts = [p for p in request.path.split("/") if p]
    if parts and parts[0] == "videos":
        parts = parts[1:]
    method = request.method
    if not parts:
        if method == "POST":
            return _upload(request, user)
        if method == "GET":
            return {"videos": service.list_videos(user.claims, db=database())}
    elif parts == ["register"] and method == "POST":
        body = json_body(request, RegisterBody)
        return service.register_video(user.id, body.path, filename=body.filename, context=body.context), 201
    elif parts == ["import"] and method == "POST":
        imported = json_body(request, ImportBody)
        return service.import_video(user.id, imported.url, context=imported.context), 201
    elif len(parts) == 1 and method == "GET":
        return _owned_video(user, parts[0])
    elif len(parts) == 2 and parts[1] == "cover" and method == "POST":
        return _cover(request, user, parts[0])
    elif len(parts) == 2 and parts[1] == "convert" and method == "POST":
        return _convert(request, user, parts[0])
    raise ApiError(404, "not_found", "There is nothing at this address.")
