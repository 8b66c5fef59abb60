"""YouTube Data API v3 simulator (www.googleapis.com), mounted under /googleapis.

Follows developers.google.com/youtube/v3: the resumable upload protocol exactly
(POST opens a session and answers 200 with `Location`; PUT with
`Content-Range: bytes a-b/total` answers 308 + `Range: bytes=0-n` until the last
byte, then 201 with the video resource; `bytes */total` asks for the status;
unknown sessions are 404; every chunk but the last a multiple of 256 KiB),
uploaded bytes spooled to a temporary file (never memory) and hashed, processing
that takes `processing_seconds`, the quota buckets (videos.insert calls/day,
shared units/day, the channel's own daily cap) and Google's error JSON.
The channel lookup (`/youtube/v3/channels`) lives with the OAuth simulator.
Statistics grow with the video's age (sandbox/engagement.py) unless set through
`/_sandbox/youtube/videos/<id>/statistics`; a thumbnail that was set is recorded
(sha256, size, width, height) on the published entry as `thumbnail`.

Accounts: `sb.add_account("youtube", "<channel id>", title=..., no_channel=True
(account without a channel), daily_upload_limit=N, thumbnails_allowed=False)`.
Settings (`sb.config`): `youtube.daily_uploads` (100), `youtube.daily_units`
(10,000), `youtube.channel_daily_uploads` (the adapter's declared assumption,
CHANNEL_DAILY_UPLOADS_ASSUMED in shared/platforms/youtube/settings.py), `processing_seconds`.

YouTube Analytics (`/youtubeanalytics/v2/reports`, reports.query): views, likes, comments,
shares, estimatedMinutesWatched and averageViewDuration per video of the caller's channel,
with the yt-analytics.readonly and youtube.readonly scopes (fault operation `analytics`).

Scheduled publishing: a private video with `status.publishAt` reads as public from that time on
the sandbox's clock (`sb.now`; `live_at` says when it became watchable); publishAt on a video
that is not private is `invalidPublishAt`. `DELETE /youtube/v3/videos?id=` (videos.delete, 50
units) needs the youtube or youtube.force-ssl scope. `PUT /youtube/v3/videos?part=snippet,status`
(videos.update, 50 units, the same scopes) replaces every property of the parts it names: a
status without publishAt clears the schedule, and publishAt is refused once the video has been
public (it can be set only on a private video never published). Processing takes `processing_seconds`, or a
time drawn per video from `youtube.processing_range` ([low, high]).

Fault operations: insert, upload, upload_status, list, thumbnail, processing, delete, update.
Kinds: server_error (params.status 500|503), rate_limited (params.retry_after),
expired_token, quota, upload_limit, signup_required, forbidden, invalid_image,
session_gone (params.status 404|410), lost_response (finish the upload, then drop
the connection before answering), processing_error (params.reason), rejected_codec,
rejected (params.reason), plus the generic timeout / reset / status. A `reset` on
upload drops the connection after reading `after_bytes` of that request, or,
with `params.at_offset`, on the request that reaches that byte of the file.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from PIL import Image, UnidentifiedImageError

from sandbox.core import Fault, Sandbox, Token, TokenProblem, bearer_token, drop_connection, generic_fault
from sandbox.engagement import engagement
from shared.platforms.youtube.settings import CHANNEL_DAILY_UPLOADS_ASSUMED

# Each base-URL setting of this platform and the path it is mounted at here (the local stack and the
# tests point the setting at the sandbox: shared/local/sandbox_env.py).
SETTINGS_PREFIXES = {
    "YOUTUBE_API_BASE": "/googleapis",
    # The OAuth hosts too: the provider reads the same settings class.
    "GOOGLE_AUTH_BASE": "/google-accounts",
    "GOOGLE_OAUTH_BASE": "/google-oauth2",
    "YOUTUBE_ANALYTICS_BASE": "/youtubeanalytics",
}

PLATFORM = "youtube"
PREFIX = "/googleapis"
ANALYTICS_PREFIX = "/youtubeanalytics"   # youtubeanalytics.googleapis.com
ANALYTICS_SCOPES = ("https://www.googleapis.com/auth/yt-analytics.readonly",
                    "https://www.googleapis.com/auth/youtube.readonly")
ANALYTICS_METRICS = ("views", "likes", "comments", "shares", "estimatedMinutesWatched", "averageViewDuration")
GRANULARITY = 256 * 1024
# videos.delete's scopes (https://developers.google.com/youtube/v3/docs/videos/delete#auth).
DELETE_SCOPES = ("https://www.googleapis.com/auth/youtube", "https://www.googleapis.com/auth/youtube.force-ssl",
                 "https://www.googleapis.com/auth/youtubepartner")
PIECE = 1024 * 1024
THUMBNAIL_MAX_BYTES = 50 * 1024 * 1024
THUMBNAIL_UNITS = 50
PACIFIC = ZoneInfo("America/Los_Angeles")
CATEGORIES = {"1", "2", "10", "15", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
              "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44"}
PRIVACY = ("public", "unlisted", "private")
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_STATUS_QUERY = re.compile(r"bytes \*/(\d+|\*)")


def error(status: int, reason: str, message: str, domain: str = "youtube.video", **extra: Any) -> Response:
    """Google's error JSON: error.code/message/status plus errors[].reason."""
    body = {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason, **extra}],
                      "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
    return Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8")


def auth_error() -> Response:
    return error(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access "
                 "token, login cookie or other valid authentication credential.", domain="global",
                 location="Authorization", locationType="header")


def _json(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json; charset=UTF-8",
                    headers=headers)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _pacific_day() -> str:
    return datetime.now(PACIFIC).date().isoformat()


def _tags_length(tags: list[str]) -> int:
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def _fault_answer(fault: Fault, operation: str) -> Response | None:
    """The answer for the fault kinds every endpoint shares; None: the endpoint decides."""
    generic = generic_fault(fault)
    if generic is not None:
        return generic
    kind = fault.kind
    if kind == "server_error":
        if int(fault.params.get("status", 503)) == 500:
            return error(500, "internalError", "Internal error encountered.", domain="global")
        return error(503, "backendError", "Backend Error", domain="global")
    if kind == "rate_limited":
        retry_after = str(fault.params.get("retry_after", 30))
        reason = "uploadRateLimitExceeded" if operation == "thumbnail" else "rateLimitExceeded"
        response = error(429, reason, "The request cannot be completed because you have exceeded your quota "
                         "rate limit.", domain="usageLimits")
        response.headers["Retry-After"] = retry_after
        return response
    if kind == "expired_token":
        return auth_error()
    if kind == "quota":
        return _quota_exceeded()
    if kind == "upload_limit":
        return _upload_limit()
    if kind == "signup_required":
        return error(401, "youtubeSignupRequired", "Unauthorized", domain="youtube.header",
                     location="Authorization", locationType="header")
    if kind == "forbidden":
        return error(403, "forbidden", "The request is not properly authorized.", domain="youtube.thumbnail"
                     if operation == "thumbnail" else "youtube.video")
    if kind == "invalid_image":
        return error(400, "invalidImage", "The provided image content is invalid.", domain="youtube.thumbnail")
    return None


def _quota_exceeded() -> Response:
    return error(403, "quotaExceeded", 'The request cannot be completed because you have exceeded your '
                 '<a href="/youtube/v3/getting-started#quota">quota</a>.', domain="youtube.quota")


def _upload_limit() -> Response:
    return error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload.")


def _validate_resource(resource: Any) -> Response | None:
    if not isinstance(resource, dict):
        return error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    snippet = resource.get("snippet") or {}
    status = resource.get("status") or {}
    title = snippet.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 100 or set(title) & set("<>"):
        return error(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
    description = snippet.get("description", "")
    if not isinstance(description, str) or len(description.encode()) > 5000 or set(description) & set("<>"):
        return error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
    tags = snippet.get("tags") or []
    if not isinstance(tags, list) or _tags_length([str(t) for t in tags]) > 500 or \
            any(set(str(t)) & set("<>") for t in tags):
        return error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
    if "categoryId" in snippet and str(snippet["categoryId"]) not in CATEGORIES:
        return error(400, "invalidCategoryId", "The request metadata specifies an invalid video category.")
    if status.get("privacyStatus", "public") not in PRIVACY:
        return error(400, "invalidVideoMetadata", "The request metadata specifies an invalid privacy status.")
    if status.get("publishAt"):
        try:
            datetime.fromisoformat(str(status["publishAt"]).replace("Z", "+00:00"))
            valid = status.get("privacyStatus") == "private"
        except ValueError:
            valid = False
        if not valid:
            return error(400, "invalidPublishAt",
                         "The request metadata specifies an invalid scheduled publishing time.")
    return None


def _publish_at(video: dict[str, Any]) -> float | None:
    value = (video.get("status") or {}).get("publishAt")
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def visible_privacy(video: dict[str, Any], now: float) -> str:
    """A private video with publishAt becomes public at that time, all by itself; a time already
    past when it was set publishes it right away.
    https://developers.google.com/youtube/v3/docs/videos#status.publishAt"""
    privacy = str((video.get("status") or {}).get("privacyStatus", "public"))
    publish_at = _publish_at(video)
    if privacy == "private" and publish_at is not None and now >= publish_at:
        return "public"
    return privacy


def live_at(sb: Sandbox, video_id: str) -> float | None:
    """When the video became watchable by everyone (processed and public), by the sandbox's clock;
    None while it is not (private, processing, failed, deleted)."""
    video = sb.store(PLATFORM).get("videos", {}).get(video_id)
    if video is None or video["outcome"].get("uploadStatus") != "processed":
        return None
    if visible_privacy(video, sb.now(PLATFORM)) != "public":
        return None
    return max(video["ready_at"], _publish_at(video) or 0.0)


class _YouTube:
    """The YouTube sandbox's upload sessions and videos, and the checks every endpoint shares (token, quota, faults)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.spool = tempfile.mkdtemp(prefix="sandbox-youtube-")
        atexit.register(shutil.rmtree, self.spool, True)

    def state(self) -> dict[str, Any]:
        store = self.sb.store(PLATFORM)
        for name in ("sessions", "videos", "inserts", "units", "channel_uploads"):
            store.setdefault(name, {})
        return store

    def authorize(self) -> tuple[Token | None, Response | None]:
        try:
            return self.sb.check_token(PLATFORM, bearer_token()), None
        except TokenProblem:
            return None, auth_error()

    def admit(self, operation: str) -> Token | Response:
        """The caller's token, or the answer for a bad one or for a fault asked for this operation."""
        token, refused = self.authorize()
        if refused is not None or token is None:
            return refused or auth_error()
        _, answer = self.fault_for(operation)
        return token if answer is None else answer

    def fault_for(self, operation: str) -> tuple[Fault | None, Response | None]:
        fault = self.sb.take_fault(PLATFORM, operation)
        if fault is None:
            return None, None
        return fault, _fault_answer(fault, operation)

    def spend_units(self, units: int) -> Response | None:
        with self.sb.lock:
            used = self.state()["units"].get(_pacific_day(), 0)
            if used + units > int(self.sb.setting("daily_units", PLATFORM, 10_000)):
                return _quota_exceeded()
            self.state()["units"][_pacific_day()] = used + units
        return None

    def take_upload_fault(self, start: int, end: int) -> Fault | None:
        def covers(fault: Fault) -> bool:
            at_offset = fault.params.get("at_offset")
            return at_offset is None or start <= int(at_offset) < end

        return self.sb.take_fault(PLATFORM, "upload", covers)

    def upload_fault(self, fault: Fault, session: dict[str, Any], start: int, length: int) -> Response | None:
        if fault.kind == "reset":
            at_offset = fault.params.get("at_offset")
            keep = int(at_offset) - start if at_offset is not None else int(fault.after_bytes or 0)
            self.receive(session, start, min(keep, length))
            drop_connection()
        if fault.kind == "session_gone":
            self.forget(session)
            return error(int(fault.params.get("status", 404)), "notFound", "Not Found", domain="global")
        if fault.kind in ("lost_response", "processing_error", "rejected_codec", "rejected"):
            if fault.kind != "lost_response":
                session["processing_fault"] = fault
            return None
        answer = _fault_answer(fault, "upload")
        if answer is not None:
            # Like a real front end, the error comes after the body was read (and discarded).
            while request.stream.read(PIECE):
                pass
        return answer

    def receive(self, session: dict[str, Any], start: int, length: int) -> None:
        """Append the request body at the session's offset; on a drop keep whole 256 KiB units."""
        received = session["received"]
        skip = received - start            # a resent overlap is read and ignored
        remaining = length
        try:
            with open(session["path"], "r+b") as spool_file:
                spool_file.seek(received)
                while remaining > 0:
                    piece = request.stream.read(min(PIECE, remaining))
                    if not piece:
                        break
                    remaining -= len(piece)
                    if skip >= len(piece):
                        skip -= len(piece)
                        continue
                    spool_file.write(piece[skip:] if skip else piece)
                    received += len(piece) - skip
                    skip = 0
        except Exception:  # noqa: BLE001, S110 - the client went away mid-body; keep what arrived
            pass
        if remaining > 0 and received < session["total"]:
            received -= received % GRANULARITY
        with open(session["path"], "r+b") as spool_file:
            spool_file.truncate(received)
        session["received"] = received

    def session_progress(self, session: dict[str, Any]) -> Response:
        if session["video_id"]:
            video = self.state()["videos"][session["video_id"]]
            return _json(self.video_resource(video, {"snippet", "status"}, owner=True), status=200)
        headers = {"Range": f"bytes=0-{session['received'] - 1}"} if session["received"] else {}
        return Response(status=308, headers=headers)

    def finish(self, session: dict[str, Any]) -> dict[str, Any]:
        digest = hashlib.sha256()
        with open(session["path"], "rb") as spool_file:
            while piece := spool_file.read(PIECE):
                digest.update(piece)
        os.unlink(session["path"])
        fault = session.pop("processing_fault", None) or self.sb.take_fault(PLATFORM, "processing")
        outcome = {"uploadStatus": "processed"}
        if fault is not None and fault.kind == "rejected_codec":
            outcome = {"uploadStatus": "failed", "failureReason": "codec"}
        elif fault is not None and fault.kind == "processing_error":
            outcome = {"uploadStatus": "failed", "failureReason": str(fault.params.get("reason", "conversion"))}
        elif fault is not None and fault.kind == "rejected":
            outcome = {"uploadStatus": "rejected", "rejectionReason": str(fault.params.get("reason", "duplicate"))}
        now = self.sb.now(PLATFORM)
        video_id = secrets.token_urlsafe(8)[:11]
        resource = session["resource"]
        video = {
            "id": video_id, "account_id": session["account_id"], "created": now,
            "ready_at": now + self.sb.processing_seconds(PLATFORM, video_id),
            "snippet": dict(resource.get("snippet") or {}), "status": dict(resource.get("status") or {}),
            "outcome": outcome, "size": session["total"], "sha256": digest.hexdigest(),
            # Counts set through the control route; the rest grow with age (sandbox/engagement.py).
            "statistics": {},
        }
        with self.sb.lock:
            self.state()["videos"][video_id] = video
            session["video_id"] = video_id
            key = f"{session['account_id']}/{_pacific_day()}"
            self.state()["channel_uploads"][key] = self.state()["channel_uploads"].get(key, 0) + 1
        snippet = video["snippet"]
        self.sb.record_publish(PLATFORM, session["account_id"], video_id, sha256=video["sha256"], size=video["size"],
                          caption=snippet.get("description", ""), title=snippet.get("title"),
                          tags=snippet.get("tags", []), status=video["status"], marker=None)
        return video

    def forget(self, session: dict[str, Any]) -> None:
        session["gone"] = True
        if os.path.exists(session["path"]):
            os.unlink(session["path"])

    def video_resource(self, video: dict[str, Any], parts: set[str], owner: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"kind": "youtube#video", "etag": secrets.token_urlsafe(12), "id": video["id"]}
        processing = self.sb.now(PLATFORM) < video["ready_at"]
        account = self.sb.account(PLATFORM, video["account_id"]) or {}
        if "snippet" in parts:
            snippet = video["snippet"]
            thumbs = {name: {"url": f"https://i.ytimg.com/vi/{video['id']}/{name}.jpg", "width": w, "height": h}
                      for name, w, h in (("default", 120, 90), ("medium", 320, 180), ("high", 480, 360))}
            item["snippet"] = {
                "publishedAt": _iso(video["created"]), "channelId": video["account_id"],
                "title": snippet.get("title", ""), "description": snippet.get("description", ""),
                "thumbnails": thumbs, "channelTitle": account.get("title", "Sandbox Channel"),
                "tags": snippet.get("tags", []), "categoryId": str(snippet.get("categoryId", "22")),
                "liveBroadcastContent": "none",
                "localized": {"title": snippet.get("title", ""), "description": snippet.get("description", "")},
            }
        if "status" in parts:
            status = video["status"]
            item["status"] = {
                "uploadStatus": "uploaded" if processing else video["outcome"]["uploadStatus"],
                "privacyStatus": visible_privacy(video, self.sb.now(PLATFORM)), "license": "youtube",
                "embeddable": True, "publicStatsViewable": True,
                "madeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
                "selfDeclaredMadeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
                "containsSyntheticMedia": bool(status.get("containsSyntheticMedia", False)),
            }
            if status.get("publishAt") and item["status"]["privacyStatus"] == "private":
                item["status"]["publishAt"] = status["publishAt"]
            if not processing:
                for reason in ("failureReason", "rejectionReason"):
                    if reason in video["outcome"]:
                        item["status"][reason] = video["outcome"][reason]
        if "processingDetails" in parts and owner:
            item["processingDetails"] = self.processing_details(video, processing)
        if "statistics" in parts:
            counts = engagement(self.sb, video["id"], video["ready_at"], platform=PLATFORM,
                                caption=video["snippet"].get("description", ""))
            grown = {"viewCount": str(counts.views), "likeCount": str(counts.likes), "favoriteCount": "0",
                     "commentCount": str(counts.comments)}
            item["statistics"] = grown | video["statistics"]
        return item

    def processing_details(self, video: dict[str, Any], processing: bool) -> dict[str, Any]:
        if processing:
            span = max(video["ready_at"] - video["created"], 1e-6)
            done = min(1.0, (self.sb.now(PLATFORM) - video["created"]) / span)
            return {"processingStatus": "processing", "processingProgress": {
                "partsTotal": "1000", "partsProcessed": str(int(done * 1000)),
                "timeLeftMs": str(int((video["ready_at"] - self.sb.now(PLATFORM)) * 1000))}}
        upload_status = video["outcome"]["uploadStatus"]
        if upload_status == "failed":
            return {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"}
        if upload_status == "rejected":
            return {"processingStatus": "terminated"}
        return {"processingStatus": "succeeded"}


def _upload_routes(app: Flask, sb: Sandbox, api: _YouTube) -> None:
    """Resumable uploads: start a session, then PUT the bytes (in one request or in chunks)."""

    # ------------------------------------------------------------ videos.insert

    @app.post(f"{PREFIX}/upload/youtube/v3/videos")
    def start_session() -> Response:
        token = api.admit("insert")
        if isinstance(token, Response):
            return token
        account = sb.account(PLATFORM, token.account_id) or {}
        if account.get("no_channel"):
            return _fault_answer(Fault(PLATFORM, kind="signup_required"), "insert") or auth_error()
        if request.args.get("uploadType") != "resumable":
            return error(400, "badRequest", "This simulator supports uploadType=resumable only.", domain="global")
        parts = set(request.args.get("part", "").split(","))
        if not parts & {"snippet", "status"}:
            return error(400, "required", "Required parameter: part", domain="global")
        try:
            total = int(request.headers["X-Upload-Content-Length"])
        except (KeyError, ValueError):
            return error(400, "badRequest", "X-Upload-Content-Length is required.", domain="global")
        resource = request.get_json(silent=True)
        problem = _validate_resource(resource)
        if problem is not None:
            return problem
        day = _pacific_day()
        with sb.lock:
            inserts = api.state()["inserts"].get(day, 0)
            if inserts >= int(sb.setting("daily_uploads", PLATFORM, 100)):
                return _quota_exceeded()
            channel_key = f"{token.account_id}/{day}"
            channel_used = api.state()["channel_uploads"].get(channel_key, 0)
            channel_cap = int(account.get("daily_upload_limit",
                                          sb.setting("channel_daily_uploads", PLATFORM,
                                                     CHANNEL_DAILY_UPLOADS_ASSUMED)))
            if channel_used >= channel_cap:
                return _upload_limit()
            api.state()["inserts"][day] = inserts + 1
            upload_id = secrets.token_urlsafe(24)
            handle, path = tempfile.mkstemp(dir=api.spool, prefix="upload-")
            os.close(handle)
            api.state()["sessions"][upload_id] = {
                "account_id": token.account_id, "resource": resource, "total": total, "path": path,
                "received": 0, "video_id": None, "gone": False,
                "content_type": request.headers.get("X-Upload-Content-Type", "video/*"),
                "notify": request.args.get("notifySubscribers", "true") != "false",
            }
        location = f"{request.host_url.rstrip('/')}{PREFIX}/upload/youtube/v3/videos" \
                   f"?uploadType=resumable&upload_id={upload_id}"
        return Response(status=200, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    @app.put(f"{PREFIX}/upload/youtube/v3/videos")
    def upload_bytes() -> Response:
        session = api.state()["sessions"].get(request.args.get("upload_id", ""))
        if session is None or session["gone"]:
            return error(404, "notFound", "Not Found", domain="global")
        total = session["total"]
        content_range = request.headers.get("Content-Range", "")
        if _STATUS_QUERY.fullmatch(content_range):
            _, answer = api.fault_for("upload_status")
            if answer is not None:
                return answer
            return api.session_progress(session)
        match = _RANGE.fullmatch(content_range)
        length = request.content_length or 0
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if match.group(3) != "*" and int(match.group(3)) != total:
                return error(400, "badRequest", "The Content-Range total does not match the session.", "global")
        elif not content_range:
            start, end = 0, length - 1
        else:
            return error(400, "badRequest", "Failed to parse Content-Range header.", domain="global")
        if end - start + 1 != length or start > session["received"] or end >= total:
            return error(400, "badRequest", "Invalid request. The Content-Range does not match the bytes "
                         "received so far or the request length.", domain="global")
        if end + 1 < total and length % GRANULARITY:
            return error(400, "badRequest", "Invalid request. The number of bytes uploaded is required to be equal "
                         "or greater than 262144, except for the final request (it's recommended to be the exact "
                         f"multiple of 262144). The received request contained {length} bytes, which does not "
                         "meet this requirement.", domain="global")
        fault = api.take_upload_fault(start, end + 1)
        if fault is not None:
            answer = api.upload_fault(fault, session, start, length)
            if answer is not None:
                return answer
        api.receive(session, start, length)
        if session["received"] < total:
            return api.session_progress(session)
        video = api.finish(session)
        if fault is not None and fault.kind == "lost_response":
            drop_connection()
        return _json(api.video_resource(video, {"snippet", "status"}, owner=True), status=201)


def _video_routes(app: Flask, sb: Sandbox, api: _YouTube) -> None:
    """videos.list, videos.delete and videos.update."""

    # -------------------------------------------------------------- videos.list

    @app.get(f"{PREFIX}/youtube/v3/videos")
    def list_videos() -> Response:
        token = api.admit("list")
        if isinstance(token, Response):
            return token
        parts = {p for p in request.args.get("part", "").split(",") if p}
        if not parts:
            return error(400, "required", "Required parameter: part", domain="global")
        over = api.spend_units(1)
        if over is not None:
            return over
        items = []
        for video_id in request.args.get("id", "").split(","):
            video = api.state()["videos"].get(video_id.strip())
            if video is not None:
                items.append(api.video_resource(video, parts, owner=video["account_id"] == token.account_id))
        return _json({"kind": "youtube#videoListResponse", "etag": secrets.token_urlsafe(12), "items": items,
                      "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    # ------------------------------------------------------------ videos.delete

    @app.delete(f"{PREFIX}/youtube/v3/videos")
    def delete_video() -> Response:
        """videos.delete: 204 No Content; 404 videoNotFound for an unknown (or already deleted) id.
        https://developers.google.com/youtube/v3/docs/videos/delete"""
        token = api.admit("delete")
        if isinstance(token, Response):
            return token
        over = api.spend_units(50)
        if over is not None:
            return over
        # youtube.upload does not cover videos.delete: it needs youtube or youtube.force-ssl.
        if token.scopes and not set(token.scopes) & set(DELETE_SCOPES):
            return error(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                         domain="global")
        video_id = request.args.get("id", "")
        video = api.state()["videos"].get(video_id)
        if video is None:
            return error(404, "videoNotFound", "The video that you are trying to delete cannot be found.")
        if video["account_id"] != token.account_id:
            return error(403, "forbidden", "The video that you are trying to delete cannot be deleted.")
        with sb.lock:
            api.state()["videos"].pop(video_id)
            api.state().setdefault("deleted", {})[video_id] = video
            for entry in sb.published:
                if entry["platform"] == PLATFORM and entry["post_id"] == video_id:
                    entry["deleted"] = True
        return Response(status=204)

    # ------------------------------------------------------------ videos.update

    @app.put(f"{PREFIX}/youtube/v3/videos")
    def update_video() -> Response:
        """videos.update: replaces every mutable property of the parts named in `part`; 50 units;
        youtube, youtube.force-ssl or youtubepartner scope.
        https://developers.google.com/youtube/v3/docs/videos/update
        publishAt only on a private video that was never published:
        https://developers.google.com/youtube/v3/docs/videos#status.publishAt"""
        token = api.admit("update")
        if isinstance(token, Response):
            return token
        parts = {p for p in request.args.get("part", "").split(",") if p}
        if not parts:
            return error(400, "required", "Required parameter: part", domain="global")
        over = api.spend_units(50)
        if over is not None:
            return over
        if token.scopes and not set(token.scopes) & set(DELETE_SCOPES):
            return error(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                         domain="global")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("id"):
            return error(400, "invalidVideoMetadata", "The request metadata is invalid.")
        video = api.state()["videos"].get(str(body["id"]))
        if video is None:
            return error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        if video["account_id"] != token.account_id:
            return error(403, "forbidden", "The video that you are trying to update cannot be updated.")
        snippet = body.get("snippet") if "snippet" in parts else video["snippet"]
        status = body.get("status") if "status" in parts else video["status"]
        if "snippet" in parts and not (snippet or {}).get("categoryId"):
            return error(400, "invalidCategoryId", "The request metadata specifies an invalid video category.")
        refused = _validate_resource({"snippet": snippet, "status": status})
        if refused is not None:
            return refused
        now = sb.now(PLATFORM)
        was_public = visible_privacy(video, now) == "public" or video.get("was_public", False)
        if "status" in parts and (status or {}).get("publishAt") and was_public:
            return error(400, "invalidPublishAt", "The request metadata specifies an invalid scheduled publishing "
                         "time.")
        with sb.lock:
            if was_public:
                video["was_public"] = True
            video["snippet"], video["status"] = dict(snippet or {}), dict(status or {})
            for entry in sb.published:
                if entry["platform"] == PLATFORM and entry["post_id"] == video["id"]:
                    entry.update(caption=video["snippet"].get("description", ""), title=video["snippet"].get("title"),
                                 tags=video["snippet"].get("tags", []), status=video["status"])
                    entry["updates"] = entry.get("updates", 0) + 1
        return _json(api.video_resource(video, parts & {"snippet", "status"}, owner=True))


def _thumbnail_routes(app: Flask, sb: Sandbox, api: _YouTube) -> None:
    """thumbnails.set."""

    # ----------------------------------------------------------- thumbnails.set

    @app.post(f"{PREFIX}/upload/youtube/v3/thumbnails/set")
    def set_thumbnail() -> Response:
        token = api.admit("thumbnail")
        if isinstance(token, Response):
            return token
        over = api.spend_units(THUMBNAIL_UNITS)
        if over is not None:
            return over
        video = api.state()["videos"].get(request.args.get("videoId", ""))
        if video is None:
            return error(404, "videoNotFound", "The video that you are trying to update cannot be found.",
                         domain="youtube.thumbnail")
        account = sb.account(PLATFORM, token.account_id) or {}
        if video["account_id"] != token.account_id or account.get("thumbnails_allowed") is False:
            return error(403, "forbidden", "The authenticated user doesn't have permissions for uploading and "
                         "setting custom thumbnail images for videos.", domain="youtube.thumbnail")
        digest, size, head, image = hashlib.sha256(), 0, b"", io.BytesIO()
        while piece := request.stream.read(PIECE):
            size += len(piece)
            head = head or piece[:8]
            if size > THUMBNAIL_MAX_BYTES:
                return error(413, "mediaBodyTooLarge", "The thumbnail is larger than 50 MB.", domain="global")
            digest.update(piece)
            image.write(piece)
        if size == 0:
            return error(400, "mediaBodyRequired", "The request does not include the image content.",
                         domain="youtube.thumbnail")
        content_type = (request.content_type or "").split(";")[0]
        is_jpeg = content_type == "image/jpeg" and head.startswith(b"\xff\xd8\xff")
        is_png = content_type == "image/png" and head.startswith(b"\x89PNG\r\n\x1a\n")
        if not (is_jpeg or is_png):
            return error(400, "invalidImage", "The provided image content is invalid.", domain="youtube.thumbnail")
        try:
            picture = Image.open(image)
            width, height = picture.size
            # What the picture shows (average colour), so a test can tell which video frame arrived.
            mean_rgb = [round(sum(band.getdata()) / (width * height)) for band in picture.convert("RGB").split()]
        except (UnidentifiedImageError, OSError):
            return error(400, "invalidImage", "The provided image content is invalid.", domain="youtube.thumbnail")
        thumbnail = {"sha256": digest.hexdigest(), "size": size, "content_type": content_type,
                     "width": width, "height": height, "mean_rgb": mean_rgb}
        video["thumbnail_sha256"] = thumbnail["sha256"]
        video["thumbnail"] = thumbnail
        with sb.lock:
            for entry in sb.published:
                if entry["platform"] == PLATFORM and entry["post_id"] == video["id"]:
                    entry["thumbnail"] = thumbnail
        sizes = (("default", 120, 90), ("medium", 320, 180), ("high", 480, 360), ("standard", 640, 480),
                 ("maxres", 1280, 720))
        item = {name: {"url": f"https://i.ytimg.com/vi/{video['id']}/{name}.jpg?custom=1", "width": w, "height": h}
                for name, w, h in sizes}
        return _json({"kind": "youtube#thumbnailSetResponse", "etag": secrets.token_urlsafe(12), "items": [item]})


def _analytics_routes(app: Flask, sb: Sandbox, api: _YouTube) -> None:
    """The YouTube Analytics report."""

    # ------------------------------------------------------- YouTube Analytics

    @app.get(f"{ANALYTICS_PREFIX}/v2/reports")
    def analytics_report() -> Response:
        """reports.query for one of the caller's videos: needs yt-analytics.readonly *and*
        youtube.readonly (2026), answers a resultTable with one row per video.
        https://developers.google.com/youtube/analytics/reference/reports/query"""
        token, refused = api.authorize()
        if refused is not None or token is None:
            return refused or auth_error()
        if token.scopes and not set(ANALYTICS_SCOPES) <= set(token.scopes):
            return error(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                         domain="global")
        _, answer = api.fault_for("analytics")
        if answer is not None:
            return answer
        args = request.args
        metrics = [m for m in (args.get("metrics") or "").split(",") if m]
        unknown = [m for m in metrics if m not in ANALYTICS_METRICS]
        if args.get("ids") != "channel==MINE" or not metrics or unknown:
            return error(400, "badRequest", f"Unknown identifier ({','.join(unknown) or 'ids/metrics'}) given "
                                            "in field parameters.", domain="global")
        try:
            start, end = (datetime.strptime(args.get(name, ""), "%Y-%m-%d") for name in ("startDate", "endDate"))
        except ValueError:
            return error(400, "badRequest", "startDate and endDate must be YYYY-MM-DD.", domain="global")
        if start > end:
            return error(400, "badRequest", "The start date must not be after the end date.", domain="global")
        wanted = (args.get("filters") or "").removeprefix("video==")
        rows = []
        for video_id in [v for v in wanted.split(",") if v]:
            video = api.state()["videos"].get(video_id)
            if video is None or video["account_id"] != token.account_id or video["outcome"].get(
                    "uploadStatus") != "processed":
                continue
            counts = engagement(sb, video_id, video["ready_at"])
            values = {"views": counts.views, "likes": counts.likes, "comments": counts.comments,
                      "shares": counts.shares, "estimatedMinutesWatched": counts.total_watch_ms // 60_000,
                      "averageViewDuration": counts.avg_watch_ms // 1000}
            rows.append([video_id, *(values[m] for m in metrics)])
        headers = [{"name": "video", "columnType": "DIMENSION", "dataType": "STRING"}] + [
            {"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
        return _json({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows})


def _control_routes(app: Flask, api: _YouTube) -> None:
    """The sandbox's own control endpoint (tests set a video's counts)."""

    # ------------------------------------------------------------ sandbox control

    @app.post("/_sandbox/youtube/videos/<video_id>/statistics")
    def set_statistics(video_id: str) -> Response:
        video = api.state()["videos"].get(video_id)
        if video is None:
            return _json({"error": "unknown video"}, status=404)
        video["statistics"].update({k: str(v) for k, v in (request.get_json(force=True) or {}).items()})
        return _json(video["statistics"])


def register(app: Flask, sb: Sandbox) -> None:
    api = _YouTube(sb)
    _upload_routes(app, sb, api)
    _video_routes(app, sb, api)
    _thumbnail_routes(app, sb, api)
    _analytics_routes(app, sb, api)
    _control_routes(app, api)
