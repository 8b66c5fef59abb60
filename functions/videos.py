"""Videos API (the /videos routes of shared/api/routes.py): upload, register, import, list, look up,
convert, covers.

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

from collections.abc import Iterator
from typing import TYPE_CHECKING

import flask

from shared.api.dispatch import Call, dispatch
from shared.api.lazy import lazy_module
from shared.app import application
from shared.http import ApiError
from shared.users import User

if TYPE_CHECKING:
    from shared import responses, video_context
    from shared import videos as service
    from shared.api import requests
    from shared.media import library
else:
    # Cold start: imported by the first request that uses them.
    responses = lazy_module("shared.responses")
    video_context = lazy_module("shared.video_context")
    service = lazy_module("shared.videos")
    requests = lazy_module("shared.api.requests")
    library = lazy_module("shared.media.library")

_READ = 1024 * 1024


def _body_chunks(request: flask.Request) -> Iterator[bytes]:
    stream = request.stream
    while chunk := stream.read(_READ):
        yield chunk


def _owned_video(user: User, video_id: str) -> responses.VideoDetail:
    app = application()
    # 404 unless RLS shows it to this user
    return service.get_video(user.claims, video_id, db=app.database, storage=app.storage,
                             settings=app.storage_settings, now=app.clock())


def _upload(call: Call) -> responses.VideoView:
    request = call.request
    app = application()
    if request.mimetype in ("application/json", "multipart/form-data"):
        raise ApiError(415, "send_raw_video", "Please send the video file itself as the request body "
                       "(Content-Type video/mp4), with its name in the X-Filename header.")
    length = request.content_length
    limit = app.storage_settings.max_video_bytes
    if length is not None and length > limit:
        raise service.too_large_error(limit, length)  # before a single byte is read or stored
    request_limit = app.storage_settings.max_upload_request_bytes
    if length is not None and length > request_limit:
        raise service.use_register_error(request_limit, length)  # Cloud Run would cut it off anyway
    context = call.query(video_context.VideoContext)  # the body is the file: context rides the query
    return service.upload_video(call.user.id, _body_chunks(request), filename=request.headers.get("X-Filename"),
                                content_type=request.mimetype, content_length=length, context=context,
                                db=app.database, storage=app.storage, settings=app.storage_settings, now=app.clock())


def _cover(call: Call) -> responses.CoverResult:
    # Imported on first use: Pillow and the frame grabber are a cold-start cost every other route would pay.
    from shared.media.covers import CoverError, store_covers

    app = application()
    request, video_id = call.request, call.params["video_id"]
    video = _owned_video(call.user, video_id)
    platforms = call.query(requests.CoverQuery).platform_list()
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
            body = call.body(requests.CoverFromFrame)
            duration = service.duration_seconds(video.probe)
            if duration is not None and body.offset_seconds > duration:
                raise CoverError(f"The cover frame must be within the video: it is {duration:g} seconds long, "
                                 f"so choose an offset from 0 to {duration:g}.")
            covers = store_covers(video_id, offset_s=body.offset_seconds, platforms=platforms,
                                  db=app.database, storage=app.storage)
    except CoverError as exc:
        raise ApiError(422, "invalid_cover", str(exc)) from None
    return responses.CoverResult(video_id=video_id, covers=sorted(covers))


def _convert(call: Call) -> responses.ConvertResult:
    # Imported on first use: the encoder (PyAV) is a cold-start cost every other route would pay.
    from shared.media.renditions import convert_video

    app = application()
    video_id = call.params["video_id"]
    _owned_video(call.user, video_id)
    body = call.body(requests.ConvertBody)
    row = convert_video(video_id, db=app.database, storage=app.storage,
                        settings=app.media_settings.encode_settings(), crop_to_vertical=body.crop_to_vertical)
    return responses.ConvertResult(video_id=video_id, kind=row["kind"], probe=row["probe"])


def _register(call: Call) -> responses.VideoView:
    body = call.body(requests.RegisterBody)
    app = application()
    return service.register_video(call.user.id, body.path, filename=body.filename, context=body.context,
                                  db=app.database, storage=app.storage, settings=app.storage_settings,
                                  now=app.clock())


def _import(call: Call) -> responses.VideoView:
    body = call.body(requests.ImportBody)
    app = application()
    policy = app.media_settings.url_policy(app.storage_settings.max_video_bytes, is_local=app.settings.is_local)
    return service.import_video(call.user.id, body.url, policy=policy, context=body.context,
                                db=app.database, storage=app.storage, settings=app.storage_settings,
                                now=app.clock())



def _list(call: Call) -> responses.VideoList:
    app = application()
    return service.list_videos(call.user.claims, db=app.database, storage=app.storage,
                               settings=app.storage_settings, now=app.clock())


def _delete(call: Call) -> responses.VideoDeleted:
    app = application()
    return library.delete_video(app.database, app.storage, call.user.claims, call.params["video_id"], now=app.clock())


videos = dispatch("videos", {
    "POST /videos": _upload,
    "POST /videos/register": _register,
    "POST /videos/import": _import,
    "GET /videos": _list,
    "GET /videos/{video_id}": lambda call: _owned_video(call.user, call.params["video_id"]),
    "DELETE /videos/{video_id}": _delete,
    "POST /videos/{video_id}/cover": _cover,
    "POST /videos/{video_id}/convert": _convert,
})
