"""Facebook Reels API simulator: start / upload (resumable) / finish / status, per Page.

Mounted at /facebook-graph (= graph.facebook.com) and /rupload (=
rupload.facebook.com). Page tokens are `sb.mint_token("facebook", page_id)` (or
come from `/me/accounts` in sandbox/oauth.py).

Fault operations: start, upload, finish, status, permalink (`GET /{video}?fields=permalink_url`),
insights, delete (`DELETE /{video}`).

Scheduled Reels: finish with `video_state=SCHEDULED` and `scheduled_publish_time` 10 minutes to 29
days ahead (else error 100); the Reel reads `publish_status: scheduled` until that time on the
sandbox's clock, then published (`live_at`). `facebook.processing_range` ([low, high]) draws a
processing time per Reel. Kinds besides the common ones:
`reset` on upload with `after_bytes` (the bytes that arrived stay received, as
`bytes_transfered` says), `processing_error` / `rejected_codec` on finish (the
reel fails in processing), `quota` on finish (the Page's 30 per 24 h is full),
`finish_then_reset` (the reel is published, then the connection drops).

Insights (`GET /{video-id}/video_insights?metric=...`) answer the Reel metrics of
platform-apis.md §4.3 with counts that grow with the reel's age (sandbox/engagement.py).

Settings: `facebook.processing_seconds`, `facebook.reels_per_24h` (default 30),
`facebook.probe_codec` (default True: refuse codecs Facebook does not take).

Page lists (`GET /me/accounts`, `/me/businesses`, `/{business}/owned_pages`,
`/{business}/client_pages`) behave as Graph does since v17: a user account's
`pages` are listed by `/me/accounts`; Pages of its `businesses=[{"id", "name",
"owned_pages": [...], "client_pages": [...]}]` appear there, and in the business
edges, only when the user token was granted `business_management`. Every list is
paged (`limit`, default 25; `after` cursor; `paging.next` only while more remain).
https://developers.facebook.com/docs/graph-api/reference/business/owned_pages/
https://developers.facebook.com/docs/graph-api/results (cursor-based pagination)
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from sandbox.core import Sandbox, TokenProblem, bearer_token, drop_connection, fetch_video
from sandbox.engagement import engagement
from sandbox.graph_common import (
    buc_header,
    common_fault,
    graph_error,
    install_usage_accounting,
    meta_header,
    object_id,
    probe_codecs,
    token_error,
)

# Each base-URL setting of this platform and the path it is mounted at here (the local stack and the
# tests point the setting at the sandbox: shared/local/sandbox_env.py).
SETTINGS_PREFIXES = {
    "FACEBOOK_GRAPH_BASE": "/facebook-graph",
    "FACEBOOK_RUPLOAD_BASE": "/rupload",
    "FACEBOOK_WWW_BASE": "/facebook-www",
}

PLATFORM = "facebook"
ACCEPTED_CODECS = ("h264", "hevc", "vp9", "av1")
DAY = 86400.0
# A scheduled Reel's time: at least 10 minutes and at most 29 days ahead (platform-apis.md; Reels
# Publishing API, https://developers.facebook.com/docs/video-api/guides/reels-publishing/).
SCHEDULE_MIN_AHEAD = 600.0
SCHEDULE_MAX_AHEAD = 29 * DAY


def live_at(sb: Sandbox, video_id: str) -> float | None:
    """When the Reel became visible on the Page (processed, and its scheduled time reached), by the
    sandbox's clock; None while it is not (processing, scheduled, failed, deleted)."""
    video = sb.store(PLATFORM).get("videos", {}).get(video_id)
    if video is None or not video.get("finished_at") or video["outcome"] != "ready":
        return None
    ready_at = video["finished_at"] + sb.processing_seconds(PLATFORM, video["id"])
    at = max(ready_at, float(video.get("scheduled_for") or 0.0))
    return at if sb.now(PLATFORM) >= at else None
REEL_METRICS = ("blue_reels_play_count", "fb_reels_total_plays", "fb_reels_replay_count",
                "post_video_avg_time_watched", "post_video_view_time", "post_video_likes_by_reaction_type",
                "post_video_social_actions", "post_video_followers")
# Page/post impression metrics Meta deprecated for every API version: asking for any of them
# fails the whole insights call with an invalid-metric error.
# https://developers.facebook.com/docs/graph-api/reference/insights (deprecation notice)
DEPRECATED_METRICS = ("post_impressions", "post_impressions_unique", "post_impressions_paid",
                      "post_impressions_organic", "post_impressions_organic_unique", "post_impressions_viral",
                      "post_impressions_fan", "post_impressions_fan_unique")


def _upload_error(status: int, kind: str, message: str, retriable: bool) -> Response:
    return Response(
        json.dumps({"debug_info": {"retriable": retriable, "type": kind, "message": message}}),
        status=status, content_type="application/json",
    )


PAGE_FIELDS = ("id", "name", "category", "access_token", "followers_count", "picture", "instagram_business_account")
DEFAULT_PAGE_SIZE = 25
BUSINESS_SCOPE = "business_management"


def business_pages(account: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Page the user reaches through one of their businesses (owned or client)."""
    return [page for business in account.get("businesses") or []
            for edge in ("owned_pages", "client_pages") for page in business.get(edge) or []]


def all_pages(account: dict[str, Any]) -> list[dict[str, Any]]:
    return list(account.get("pages") or []) + business_pages(account)


def _paged(items: list[dict[str, Any]]) -> Response:
    """One page of `items` with Graph's cursor paging; `next` only while more remain."""
    try:
        limit = max(1, min(int(request.args.get("limit", DEFAULT_PAGE_SIZE)), 100))
        start = int(request.args.get("after") or 0)
    except ValueError:
        return graph_error(400, 100, "(#100) Invalid cursor or limit")
    chunk = items[start:start + limit]
    paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
    if start + limit < len(items):
        query = {k: v for k, v in request.args.items() if k not in ("after", "before")}
        query |= {"limit": str(limit), "after": str(start + limit)}
        paging["next"] = f"{request.base_url}?{urlencode(query)}"
    return jsonify(data=chunk, paging=paging)


def register_page_lists(app: Flask, sb: Sandbox) -> None:
    """The Page lists Facebook Login reads to find the Pages a user may publish to."""

    def user_token() -> Any:
        try:
            return sb.check_token(PLATFORM, bearer_token())
        except TokenProblem as exc:
            return token_error(exc)

    def page_entry(page: dict[str, Any], owner: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        page_id = str(page["id"])
        if sb.account(PLATFORM, page_id) is None:
            sb.add_account(PLATFORM, page_id, kind="page", owner=owner,
                           **{k: v for k, v in page.items() if k != "id"})
        entry: dict[str, Any] = {
            "id": page_id, "name": page.get("name"), "category": page.get("category", "Creator"),
            "access_token": sb.mint_token(PLATFORM, page_id, ttl=float(sb.setting("page_ttl", PLATFORM, 3650 * DAY)),
                                          scopes=scopes).value,
            "followers_count": page.get("followers_count"),
            "picture": {"data": {"url": f"https://graph.facebook.example/{page_id}/picture"}},
        }
        if page.get("instagram_business_account"):
            entry["instagram_business_account"] = {"id": str(page["instagram_business_account"])}
        wanted = set((request.args.get("fields") or "id,name").split(","))
        return {k: v for k, v in entry.items() if k in wanted or k == "id"}

    def listing(token: Any, pages: list[dict[str, Any]]) -> Response:
        return _paged([page_entry(page, token.account_id, token.scopes) for page in pages])

    @app.get("/facebook-graph/<version>/me/accounts", endpoint="fb_me_accounts")
    def me_accounts(version: str) -> Response:
        fault = sb.take_fault(PLATFORM, "pages")
        if fault is not None and (answer := common_fault(fault, "me", "pages")) is not None:
            return answer
        token = user_token()
        if isinstance(token, Response):
            return token
        account = sb.account(PLATFORM, token.account_id) or {}
        # Graph v17+: Pages owned through a business are left out without business_management.
        pages = all_pages(account) if BUSINESS_SCOPE in token.scopes else list(account.get("pages") or [])
        return listing(token, pages)

    @app.get("/facebook-graph/<version>/me/businesses", endpoint="fb_me_businesses")
    def me_businesses(version: str) -> Response:
        token = user_token()
        if isinstance(token, Response):
            return token
        if BUSINESS_SCOPE not in token.scopes:
            return graph_error(403, 200, "(#200) Requires business_management permission to manage the object")
        account = sb.account(PLATFORM, token.account_id) or {}
        return _paged([{"id": str(b["id"]), "name": b.get("name")} for b in account.get("businesses") or []])

    @app.get("/facebook-graph/<version>/<business_id>/owned_pages", endpoint="fb_owned_pages",
             defaults={"edge": "owned_pages"})
    @app.get("/facebook-graph/<version>/<business_id>/client_pages", endpoint="fb_client_pages",
             defaults={"edge": "client_pages"})
    def business_edge(version: str, business_id: str, edge: str) -> Response:
        token = user_token()
        if isinstance(token, Response):
            return token
        if BUSINESS_SCOPE not in token.scopes:
            return graph_error(403, 200, "(#200) Requires business_management permission to manage the object")
        account = sb.account(PLATFORM, token.account_id) or {}
        business = next((b for b in account.get("businesses") or [] if str(b["id"]) == business_id), None)
        if business is None:
            return graph_error(400, 100, f"Unsupported get request. Object with ID '{business_id}' does not exist",
                               subcode=33, error_type="GraphMethodException")
        return listing(token, list(business.get(edge) or []))


class _Facebook:
    """The Facebook sandbox's videos and upload files, and the checks every endpoint shares (token, admin, faults)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.lock = threading.RLock()
        self.files = Path(tempfile.mkdtemp(prefix="sandbox-facebook-"))

    def videos(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("videos", {})

    def caller_video(self, video_id: str) -> tuple[str, dict[str, Any]] | Response:
        """The calling Page and its video, or Graph's answer for a bad token or a video the Page cannot see."""
        account_id, problem = self.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        video = self.page_video(video_id, account_id, "get")
        return video if isinstance(video, Response) else (account_id, video)

    def page_video(self, video_id: str, page_id: str, verb: str) -> dict[str, Any] | Response:
        """The Page's video, or Graph's answer for an id it cannot see (missing, or another Page's)."""
        video = self.videos().get(video_id)
        if video is None or video["page_id"] != page_id:
            return graph_error(400, 100, f"Unsupported {verb} request. Object with ID '{video_id}' does not exist, "
                                         "cannot be loaded due to missing permissions, or does not support "
                                         "this operation.", subcode=33, error_type="GraphMethodException")
        return video

    def authenticate(self) -> tuple[str | None, Response | None]:
        try:
            token = self.sb.check_token(PLATFORM, bearer_token())
        except TokenProblem as problem:
            return None, token_error(problem)
        return token.account_id, None

    def fault_for(self, operation: str, page_id: str) -> tuple[str | None, Response | None]:
        fault = self.sb.take_fault(PLATFORM, operation)
        if fault is None:
            return None, None
        if fault.kind == "reset" and operation == "upload":
            return "reset:" + str(fault.after_bytes or 0), None
        answer = common_fault(fault, page_id, "pages")
        return (None, answer) if answer is not None else (fault.kind, None)

    def not_page_admin(self) -> Response:
        return graph_error(400, 200, "(#200) The user must be an administrator, editor, or moderator of the "
                                     "page in order to post reels", error_type="OAuthException")

    def reels_in_window(self, page_id: str) -> list[dict[str, Any]]:
        since = self.sb.now(PLATFORM) - DAY
        return [v for v in self.videos().values()
                if v["page_id"] == page_id and v.get("finished_at") and v["finished_at"] >= since
                and v["outcome"] == "ready"]

    def status_of(self, video: dict[str, Any]) -> dict[str, Any]:
        received = video["received"]
        size = video.get("file_size")
        upload_done = size is not None and received >= size
        uploading = {"status": "complete" if upload_done else "in_progress", "bytes_transfered": received}
        processing: dict[str, Any] = {"status": "not_started"}
        publishing: dict[str, Any] = {"status": "not_started", "publish_status": "draft"}
        video_status = "upload_complete" if upload_done else "uploading"
        if video.get("finished_at"):
            ready_at = video["finished_at"] + self.sb.processing_seconds(PLATFORM, video["id"])
            scheduled_for = video.get("scheduled_for")
            if self.sb.now(PLATFORM) < ready_at:
                video_status = "processing"
                processing = {"status": "in_progress"}
                publishing = {"status": "not_started", "publish_status": "scheduled"}
            elif video["outcome"] == "ready" and scheduled_for and self.sb.now(PLATFORM) < scheduled_for:
                # Processed, waiting for its time: Facebook publishes it by itself then.
                video_status = "ready"
                processing = {"status": "complete"}
                publishing = {"status": "not_started", "publish_status": "scheduled",
                              "publish_time": int(scheduled_for)}
            elif video["outcome"] == "ready":
                video_status = "ready"
                processing = {"status": "complete"}
                publishing = {"status": "complete", "publish_status": "published",
                              "publish_time": int(max(ready_at, scheduled_for or 0))}
            else:
                video_status = "error"
                processing = {"status": "error", "error": {"message": video["outcome"]}}
                publishing = {"status": "not_started", "publish_status": "error"}
        return {"video_status": video_status, "uploading_phase": uploading, "processing_phase": processing,
                "publishing_phase": publishing}

    def start(self, page_id: str, version: str) -> Response:
        _, answer = self.fault_for("start", page_id)
        if answer is not None:
            return answer
        video_id = object_id()
        with self.lock:
            self.videos()[video_id] = {"id": video_id, "page_id": page_id, "received": 0, "file_size": None,
                                  "sha256": None, "finished_at": None, "outcome": "ready", "description": None}
        return jsonify(video_id=video_id, upload_url=f"https://rupload.facebook.com/video-upload/{version}/{video_id}")

    def finish(self, page_id: str, form: dict[str, str]) -> Response:
        kind, answer = self.fault_for("finish", page_id)
        if answer is not None:
            return answer
        video = self.videos().get(form.get("video_id", ""))
        if video is None or video["page_id"] != page_id:
            return graph_error(400, 100, "(#100) Invalid video_id", error_type="OAuthException")
        if form.get("video_state") not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
            return graph_error(400, 100, "(#100) video_state must be one of PUBLISHED, DRAFT, SCHEDULED")
        scheduled_for = None
        if form.get("video_state") == "SCHEDULED":
            try:
                scheduled_for = float(form.get("scheduled_publish_time", ""))
            except ValueError:
                scheduled_for = -1.0
            ahead = scheduled_for - self.sb.now(PLATFORM)
            if not SCHEDULE_MIN_AHEAD <= ahead <= SCHEDULE_MAX_AHEAD:
                return graph_error(400, 100, "(#100) The specified scheduled publish time is invalid.",
                                   error_type="OAuthException")
        if video["file_size"] is None or video["received"] < video["file_size"]:
            return graph_error(400, 6000, "There was a problem uploading your video file. Please try again.",
                               error_type="OAuthException", is_transient=False)
        limit = int(self.sb.setting("reels_per_24h", PLATFORM, 30))
        window = self.reels_in_window(page_id)
        if kind == "quota" or len(window) >= limit:
            oldest = min((v["finished_at"] for v in window), default=self.sb.now(PLATFORM))
            minutes = max(1.0, (oldest + DAY - self.sb.now(PLATFORM)) / 60)
            return graph_error(400, 32, "Page request limit reached", is_transient=False,
                               headers=buc_header(page_id, round(minutes), "pages"))
        with self.lock:
            if video.get("finished_at"):
                return jsonify(success=True)  # finishing twice changes nothing
            if kind == "processing_error":
                video["outcome"] = "Video processing failed"
            elif kind == "rejected_codec" or (
                self.sb.setting("probe_codec", PLATFORM, True) and video.get("path")
                and probe_codecs(str(video["path"]))[0] not in ACCEPTED_CODECS
            ):
                video["outcome"] = "The video file you tried to upload is in a format we don't support"
            video["finished_at"] = self.sb.now(PLATFORM)
            video["scheduled_for"] = scheduled_for
            video["description"] = form.get("description", "")
            video["title"] = form.get("title")
        if video["outcome"] == "ready":
            self.sb.record_publish(PLATFORM, page_id, video["id"], sha256=video["sha256"], size=video["file_size"],
                              caption=video["description"], title=video["title"], marker=video["id"])
        if kind == "finish_then_reset":
            drop_connection()
        return jsonify(success=True)


def _video_routes(app: Flask, sb: Sandbox, api: _Facebook) -> None:
    """A video object: delete it, read it, read its insights."""

    @app.delete("/facebook-graph/<version>/<video_id>", endpoint="fb_video_delete")
    def delete_video(version: str, video_id: str) -> Response:
        """Deleting a video (a scheduled Reel included): {"success": true}.
        https://developers.facebook.com/docs/graph-api/reference/video/#deleting"""
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        _, answer = api.fault_for("delete", account_id)
        if answer is not None:
            return answer
        video = api.page_video(video_id, account_id, "delete")
        if isinstance(video, Response):
            return video
        with api.lock:
            api.videos().pop(video_id)
            sb.store(PLATFORM).setdefault("deleted", {})[video_id] = video
            for entry in sb.published:
                if entry["platform"] == PLATFORM and entry["post_id"] == video_id:
                    entry["deleted"] = True
        return jsonify(success=True)

    @app.get("/facebook-graph/<version>/<video_id>", endpoint="fb_video")
    def read_video(version: str, video_id: str) -> Response:
        found = api.caller_video(video_id)
        if isinstance(found, Response):
            return found
        account_id, video = found
        fields = (request.args.get("fields") or "id").split(",")
        # A read of the permalink alone is its own fault operation, so a test can fail just the link.
        operation = "permalink" if "permalink_url" in fields and "status" not in fields else "status"
        _, answer = api.fault_for(operation, account_id)
        if answer is not None:
            return answer
        full: dict[str, Any] = {"id": video_id, "status": api.status_of(video),
                                "permalink_url": f"/reel/{video_id}/", "description": video["description"]}
        return jsonify({k: v for k, v in full.items() if k in fields or k == "id"})

    # ---------------------------------------------------------------- status

    @app.get("/facebook-graph/<version>/<video_id>/video_insights", endpoint="fb_video_insights")
    def video_insights(version: str, video_id: str) -> Response:
        found = api.caller_video(video_id)
        if isinstance(found, Response):
            return found
        account_id, video = found
        _, answer = api.fault_for("insights", account_id)
        if answer is not None:
            return answer
        wanted = [m for m in (request.args.get("metric") or "").split(",") if m] or list(REEL_METRICS)
        deprecated = [m for m in wanted if m in DEPRECATED_METRICS]
        if deprecated:
            return graph_error(400, 100, f"(#100) The value must be a valid insights metric: {deprecated[0]} "
                                         "is deprecated and no longer available")
        unknown = [m for m in wanted if m not in REEL_METRICS]
        if unknown:
            return graph_error(400, 100, f"(#100) The value must be a valid insights metric: {unknown[0]}")
        if not video.get("finished_at") or video["outcome"] != "ready":
            return jsonify(data=[], paging={})
        counts = engagement(sb, video_id, float(video["finished_at"]), platform=PLATFORM,
                            caption=video["description"])
        likes = counts.likes
        values: dict[str, Any] = {
            "blue_reels_play_count": counts.views,
            "fb_reels_total_plays": counts.views + counts.replays,
            "fb_reels_replay_count": counts.replays,
            "post_video_avg_time_watched": counts.avg_watch_ms,
            "post_video_view_time": counts.total_watch_ms,
            "post_video_likes_by_reaction_type": {"REACTION_LIKE": likes - likes // 5,
                                                  "REACTION_LOVE": likes // 5},
            "post_video_social_actions": {"COMMENT": counts.comments, "SHARE": counts.shares},
            "post_video_followers": counts.saves // 4,
        }
        return jsonify(data=[{
            "name": name, "period": "lifetime", "values": [{"value": values[name]}],
            "title": name.replace("_", " ").capitalize(), "description": f"Lifetime {name} of the reel.",
            "id": f"{video_id}/video_insights/{name}/lifetime",
        } for name in wanted], paging={})


def _reel_routes(app: Flask, api: _Facebook) -> None:
    """Publishing a reel: the start/finish phases and the rupload of the bytes."""

    # ---------------------------------------------------------------- start / finish

    @app.post("/facebook-graph/<version>/<page_id>/video_reels", endpoint="fb_reels_phase")
    def reels_phase(version: str, page_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        if account_id != page_id:
            return api.not_page_admin()
        form = request.form.to_dict() | request.args.to_dict()
        phase = form.get("upload_phase")
        if phase == "start":
            return api.start(page_id, version)
        if phase == "finish":
            return api.finish(page_id, form)
        return graph_error(400, 100, "(#100) upload_phase must be one of {start, finish}")

    # ---------------------------------------------------------------- upload

    @app.post("/rupload/video-upload/<version>/<video_id>", endpoint="fb_rupload")
    def upload(version: str, video_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        video = api.videos().get(video_id)
        if video is None or video["page_id"] != account_id:
            return _upload_error(400, "ProcessingFailedError", "Video not found for this upload session", False)
        kind, answer = api.fault_for("upload", account_id)
        if answer is not None:
            return answer
        file_url = meta_header("file_url")
        if file_url:
            fetched = fetch_video(file_url)
            if not fetched["ok"]:
                return _upload_error(400, "ProcessingFailedError", "Failed to download the file_url", False)
            with api.lock:
                video.update(received=fetched["size"], file_size=fetched["size"], sha256=fetched["sha256"])
            return jsonify(success=True)
        try:
            offset = int(request.headers.get("offset", ""))
            file_size = int(meta_header("file_size") or "")
        except ValueError:
            return _upload_error(400, "PartialRequestError", "offset and file_size headers are required", False)
        if offset != video["received"]:
            return _upload_error(400, "OffsetInvalidError",
                                 f"Offset {offset} does not match the bytes received ({video['received']})", True)
        video["file_size"] = file_size
        video.setdefault("offsets", []).append(offset)  # lets tests see where uploads resumed
        path = api.files / f"{video_id}.mp4"
        video["path"] = path
        limit = int(kind.split(":")[1]) if kind and kind.startswith("reset:") else None
        received = 0
        with path.open("r+b" if path.exists() else "wb") as out:
            out.seek(offset)
            out.truncate()
            while True:
                if limit is not None and received >= limit:
                    out.flush()
                    video["received"] = offset + received
                    drop_connection()
                want = 1024 * 1024 if limit is None else min(1024 * 1024, limit - received)
                chunk = request.stream.read(want)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
        video["received"] = offset + received
        if video["received"] < file_size:
            return _upload_error(400, "PartialRequestError",
                                 f"Received {video['received']} of {file_size} bytes", True)
        digest = hashlib.sha256()
        with path.open("rb") as done:
            while block := done.read(1024 * 1024):
                digest.update(block)
        video["sha256"] = digest.hexdigest()
        return jsonify(success=True)


def register(app: Flask, sb: Sandbox) -> None:
    api = _Facebook(sb)
    install_usage_accounting(app, sb)
    _video_routes(app, sb, api)
    register_page_lists(app, sb)
    _reel_routes(app, api)

