"""Instagram Graph API (Instagram Login) simulator: Reels containers, publishing, quota.

Mounted at /instagram-graph (= graph.instagram.com), versioned paths like the
real host: `/instagram-graph/v26.0/me`. Accounts: `sb.add_account("instagram",
id, username=..., account_type="BUSINESS"|"MEDIA_CREATOR"|"PERSONAL")`.

The account check (`GET /me`) is served by sandbox/oauth.py (fault operation
`profile`). Fault operations here: create_container, container_status, publishing_limit,
publish, media, media_list, insights. Kinds besides the common ones: `processing_error`
(container ends in ERROR 2207001), `rejected_codec` (ERROR 2207026),
`fetch_failed` (ERROR 2207052), `expire` (container EXPIRED), `quota`
(publish answers 9/2207042), `publish_then_reset` (publishes, then drops the
connection: the answer is lost, the reel is live), `not_enough_viewers` (insights
answers error 10 "Not enough viewers").

A `cover_url` is fetched like Instagram does (JPEG, at most 8 MB, else 36000/36001);
what arrived is recorded as `cover` on the container and the published entry.
Insights (`GET /{media-id}/insights?metric=...`) grow with the reel's age (see
sandbox/engagement.py) and refuse the metrics removed in 2025 (plays, impressions, ...).

Settings: `instagram.processing_seconds`, `instagram.quota_total` (default 50, the media_publish
reference's figure), `instagram.send_config` (default True; False leaves `config` out of
content_publishing_limit),
`instagram.probe_codec` (default True: refuse video codecs other than H.264/HEVC).
"""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
from flask import Flask, Response, jsonify, request
from PIL import Image, UnidentifiedImageError

from sandbox.core import Sandbox, TokenProblem, bearer_token, drop_connection, fetch_video
from sandbox.engagement import engagement
from sandbox.graph_common import (
    common_fault,
    graph_error,
    install_usage_accounting,
    object_id,
    probe_codecs,
    token_error,
)

# Each base-URL setting of this platform and the path it is mounted at here (the local stack and the
# tests point the setting at the sandbox: shared/local/sandbox_env.py).
SETTINGS_PREFIXES = {
    "INSTAGRAM_GRAPH_BASE": "/instagram-graph",
    "INSTAGRAM_API_BASE": "/instagram-api",
    "INSTAGRAM_WWW_BASE": "/instagram-www",
}

PLATFORM = "instagram"
# https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
DEFAULT_QUOTA_TOTAL = 50
PROFESSIONAL = ("BUSINESS", "MEDIA_CREATOR")
ACCEPTED_CODECS = ("h264", "hevc")
COVER_MAX_BYTES = 8 * 1024 * 1024
CONTAINER_TTL = 24 * 3600.0
INSIGHTS_SCOPE = "instagram_business_manage_insights"
REEL_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions",
                "ig_reels_avg_watch_time", "ig_reels_video_view_total_time", "reposts")
# Removed for every API version on Apr 21 2025 (platform-apis.md §3.8).
REMOVED_METRICS = ("plays", "impressions", "video_views", "clips_replays_count",
                   "ig_reels_aggregated_all_plays_count")


def fetch_image(url: str) -> dict[str, Any]:
    """Download a cover the way Instagram does (no redirects) and read what it is."""
    try:
        response = httpx.get(url, timeout=30, follow_redirects=False)
    except httpx.HTTPError as exc:
        return {"ok": False, "status": None, "error": type(exc).__name__}
    if response.status_code != 200:
        return {"ok": False, "status": response.status_code}
    data = response.content
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        image_format = image.format
    except (UnidentifiedImageError, OSError):
        width = height = 0
        image_format = None
    return {"ok": True, "status": 200, "size": len(data), "format": image_format, "width": width,
            "height": height, "sha256": hashlib.sha256(data).hexdigest()}


def _graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class _Instagram:
    """The Instagram sandbox's containers and media, and the checks every endpoint shares (token, owner, faults)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.lock = threading.RLock()

    def containers(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("containers", {})

    def media(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("media", {})

    def authenticate(self) -> tuple[str | None, Response | None]:
        try:
            token = self.sb.check_token(PLATFORM, bearer_token())
        except TokenProblem as problem:
            return None, token_error(problem)
        return token.account_id, None

    def fault_for(self, operation: str, account_id: str) -> tuple[str | None, Response | None]:
        """(a platform-specific fault kind left for the endpoint, or a ready answer)."""
        fault = self.sb.take_fault(PLATFORM, operation)
        if fault is None:
            return None, None
        answer = common_fault(fault, account_id, "instagram_content_publish")
        if answer is not None:
            return None, answer
        return fault.kind, None

    def wrong_owner(self, object_owner: str, account_id: str) -> Response | None:
        if object_owner != account_id:
            return graph_error(
                400, 100,
                f"Unsupported request - method type: {request.method.lower()}",
                subcode=33, error_type="GraphMethodException",
            )
        return None

    def published_in_window(self, account_id: str) -> list[dict[str, Any]]:
        since = self.sb.now(PLATFORM) - 86400
        return [m for m in self.media().values() if m["owner"] == account_id and m["created"] >= since]

    def container_status(self, container: dict[str, Any]) -> tuple[str, str]:
        if container.get("media_id"):
            return "PUBLISHED", "Published"
        # A container not published within 24 hours expires
        # (https://developers.facebook.com/docs/instagram-platform/content-publishing/, troubleshooting).
        if container["outcome"] == "EXPIRED" or self.sb.now(PLATFORM) >= container["created"] + CONTAINER_TTL:
            return "EXPIRED", "Expired"
        processing = self.sb.processing_seconds(PLATFORM, container["id"])
        if self.sb.now(PLATFORM) < container["created"] + processing:
            return "IN_PROGRESS", "In Progress"
        if container["outcome"] == "FINISHED":
            return "FINISHED", "Finished: Media container is ready to be published"
        return "ERROR", f"Error: {container['outcome']}"


def _container_routes(app: Flask, sb: Sandbox, api: _Instagram) -> None:
    """Creating a media container (the upload is fetched from video_url or sent by resumable upload)."""

    # ---------------------------------------------------------------- endpoints

    @app.post("/instagram-graph/<version>/<ig_user_id>/media", endpoint="ig_publish_create_container")
    def create_container(version: str, ig_user_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        if (refused := api.wrong_owner(ig_user_id, account_id)) is not None:
            return refused
        kind, answer = api.fault_for("create_container", account_id)
        if answer is not None:
            return answer
        params = request.form.to_dict() | request.args.to_dict()
        params.pop("access_token", None)
        account = sb.account(PLATFORM, account_id) or {}
        if account.get("account_type", "BUSINESS") not in PROFESSIONAL:
            return graph_error(400, 10, "Application does not have permission for this action",
                               user_title="Not a professional account",
                               user_msg="Only Business and Creator accounts can publish content.")
        if params.get("media_type") != "REELS":
            return graph_error(400, 100, "The media type is not supported", subcode=2207023,
                               user_title="Unknown media type",
                               user_msg="The media type entered is not one of the expected types.")
        if not params.get("video_url"):
            return graph_error(400, 100, "(#100) The parameter video_url is required")
        caption = params.get("caption", "")
        if len(caption) > 2200 or caption.count("#") > 30:
            return graph_error(400, 36004, "The caption is too long", subcode=2207010,
                               user_title="Caption too long",
                               user_msg="The caption can have at most 2,200 characters and 30 hashtags.")
        if caption.count("@") > 20:
            return graph_error(400, 100, "Too many tags", subcode=2207040,
                               user_title="Too many tags", user_msg="You can mention at most 20 accounts.")

        cover = None
        if params.get("cover_url"):
            cover = fetch_image(params["cover_url"])
            if not cover["ok"] or cover["format"] != "JPEG":
                return graph_error(400, 36001, "The image format is not supported", subcode=2207005,
                                   user_title="Unsupported image format",
                                   user_msg="The image format is not supported. Use a JPEG image.")
            if cover["size"] > COVER_MAX_BYTES:
                return graph_error(400, 36000, "The image is too large", subcode=2207004,
                                   user_title="Image is too large",
                                   user_msg="The image file is too large. The maximum size is 8 MiB.")
        outcome = "FINISHED"
        fetched = fetch_video(params["video_url"])
        if not fetched["ok"]:
            outcome = "2207052"
        elif kind == "rejected_codec":
            outcome = "2207026"
        elif kind == "processing_error":
            outcome = "2207001"
        elif kind == "fetch_failed":
            outcome = "2207052"
        elif kind == "expire":
            outcome = "EXPIRED"
        elif sb.setting("probe_codec", PLATFORM, True):
            codec, _ = probe_codecs(params["video_url"])
            if codec not in ACCEPTED_CODECS:
                outcome = "2207026"
        container_id = object_id()
        with api.lock:
            api.containers()[container_id] = {
                "id": container_id, "owner": account_id, "created": sb.now(PLATFORM), "outcome": outcome,
                "params": params, "caption": caption, "sha256": fetched["sha256"], "size": fetched["size"],
                "media_id": None, "cover": cover,
            }
        return jsonify(id=container_id)


def _publishing_routes(app: Flask, sb: Sandbox, api: _Instagram) -> None:
    """The publishing limit and media_publish."""

    @app.get("/instagram-graph/<version>/<ig_user_id>/content_publishing_limit",
             endpoint="ig_publish_publishing_limit")
    def publishing_limit(version: str, ig_user_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        if (refused := api.wrong_owner(ig_user_id, account_id)) is not None:
            return refused
        kind, answer = api.fault_for("publishing_limit", account_id)
        if answer is not None:
            return answer
        total = int(sb.setting("quota_total", PLATFORM, DEFAULT_QUOTA_TOTAL))
        usage = total if kind == "quota" else len(api.published_in_window(account_id))
        if not sb.setting("send_config", PLATFORM, True):
            return jsonify(data=[{"quota_usage": usage}])  # Meta does not always send `config`
        return jsonify(data=[{"quota_usage": usage, "config": {"quota_total": total, "quota_duration": 86400}}])

    @app.post("/instagram-graph/<version>/<ig_user_id>/media_publish", endpoint="ig_publish_media_publish")
    def media_publish(version: str, ig_user_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        if (refused := api.wrong_owner(ig_user_id, account_id)) is not None:
            return refused
        kind, answer = api.fault_for("publish", account_id)
        if answer is not None:
            return answer
        creation_id = request.args.get("creation_id") or request.form.get("creation_id")
        total = int(sb.setting("quota_total", PLATFORM, DEFAULT_QUOTA_TOTAL))
        if kind == "quota" or len(api.published_in_window(account_id)) >= total:
            return graph_error(400, 9, "Application request limit reached", subcode=2207042,
                               user_title="Maximum number of posts reached",
                               user_msg="The account has reached its daily publishing limit.")
        with api.lock:
            container = api.containers().get(creation_id or "")
            if container is None or container["owner"] != account_id:
                return graph_error(400, 24, "The media with id was not found", subcode=2207006,
                                   user_title="Media not found", user_msg="The media could not be found.")
            status, _ = api.container_status(container)
            if status == "PUBLISHED":
                return graph_error(400, 100, "The media has already been published",
                                   error_type="GraphMethodException")
            if status == "IN_PROGRESS":
                return graph_error(400, 9007, "Media ID is not available", subcode=2207027,
                                   user_title="Media not ready for publishing",
                                   user_msg="The media is not ready yet, please wait a moment.")
            if status == "EXPIRED":
                return graph_error(400, -2, "The media has expired", subcode=2207020,
                                   user_title="Media expired", user_msg="Please create a new container.")
            if status == "ERROR":
                return graph_error(400, 9007, "Media ID is not available", subcode=2207027,
                                   user_title="Media not ready for publishing",
                                   user_msg="The media could not be published.")
            media_id = object_id()
            container["media_id"] = media_id
            api.media()[media_id] = {
                "id": media_id, "owner": account_id, "created": sb.now(PLATFORM), "caption": container["caption"],
                "container_id": container["id"], "shortcode": f"C{media_id[-10:]}",
                "thumb_offset": container["params"].get("thumb_offset"),
            }
        sb.record_publish(PLATFORM, account_id, media_id, sha256=container["sha256"], size=container["size"],
                          caption=container["caption"], marker=container["id"], cover=container["cover"],
                          thumb_offset=container["params"].get("thumb_offset"))
        if kind == "publish_then_reset":
            drop_connection()
        return jsonify(id=media_id)


def _media_routes(app: Flask, sb: Sandbox, api: _Instagram) -> None:
    """Reading media: the list, insights, and any object by id."""

    @app.get("/instagram-graph/<version>/<ig_user_id>/media", endpoint="ig_publish_media_list")
    def media_list(version: str, ig_user_id: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        if (refused := api.wrong_owner(ig_user_id, account_id)) is not None:
            return refused
        _, answer = api.fault_for("media_list", account_id)
        if answer is not None:
            return answer
        limit = int(request.args.get("limit", 25))
        fields = (request.args.get("fields") or "id").split(",")
        items = sorted((m for m in api.media().values() if m["owner"] == account_id),
                       key=lambda m: m["created"], reverse=True)[:limit]
        return jsonify(data=[{k: v for k, v in _media_view(m).items() if k in fields or k == "id"} for m in items],
                       paging={"cursors": {"before": "QVFI", "after": "QVFJ"}})

    @app.get("/instagram-graph/<version>/<media_id>/insights", endpoint="ig_media_insights")
    def media_insights(version: str, media_id: str) -> Response:
        try:
            token = sb.check_token(PLATFORM, bearer_token())
        except TokenProblem as problem:
            return token_error(problem)
        item = api.media().get(media_id)
        if item is None or item["owner"] != token.account_id:
            return graph_error(400, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist, "
                                         "cannot be loaded due to missing permissions, or does not support this "
                                         "operation.", subcode=33, error_type="GraphMethodException")
        if token.scopes and INSIGHTS_SCOPE not in token.scopes:
            return graph_error(403, 10, "(#10) Application does not have permission for this action")
        kind, answer = api.fault_for("insights", token.account_id)
        if answer is not None:
            return answer
        if kind == "not_enough_viewers":
            return graph_error(400, 10, "(#10) Not enough viewers for the media to show insights",
                               user_title="Not enough viewers",
                               user_msg="Insights are shown once enough people have viewed the media.")
        wanted = [m for m in (request.args.get("metric") or "").split(",") if m]
        if not wanted:
            return graph_error(400, 100, "(#100) The parameter metric is required")
        for name in wanted:
            if name in REMOVED_METRICS:
                return graph_error(400, 100, f"(#100) Starting from v22.0 and for all versions since April 21, "
                                             f"2025, the {name} metric is no longer supported")
            if name not in REEL_METRICS:
                return graph_error(400, 100, "(#100) metric[0] must be one of the following values: "
                                             + ", ".join(REEL_METRICS))
        thumb = item.get("thumb_offset")
        counts = engagement(sb, media_id, item["created"], platform=PLATFORM, caption=item["caption"],
                            cover_offset_seconds=int(thumb) / 1000 if thumb not in (None, "") else None)
        values = {
            "views": counts.views, "reach": counts.reach, "likes": counts.likes, "comments": counts.comments,
            "shares": counts.shares, "saved": counts.saves,
            "total_interactions": counts.likes + counts.comments + counts.shares + counts.saves,
            "ig_reels_avg_watch_time": counts.avg_watch_ms, "ig_reels_video_view_total_time": counts.total_watch_ms,
            "reposts": counts.shares // 3,
        }
        return jsonify(data=[{
            "name": name, "period": "lifetime", "values": [{"value": values[name]}],
            "title": name.replace("_", " ").capitalize(), "description": f"Lifetime {name} of the reel.",
            "id": f"{media_id}/insights/{name}/lifetime",
        } for name in wanted])

    @app.delete("/instagram-graph/<version>/<object_id_>", endpoint="ig_publish_delete_object")
    def delete_object(version: str, object_id_: str) -> Response:
        """An IG Container cannot be deleted ("Deleting: This operation is not supported",
        https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container):
        Graph answers an unsupported method with code 100, subcode 33. An unpublished one expires after 24 h."""
        _, problem = api.authenticate()
        if problem is not None:
            return problem
        return graph_error(400, 100, f"Unsupported delete request. Object with ID '{object_id_}' does not exist, "
                           "cannot be loaded due to missing permissions, or does not support this operation.",
                           subcode=33)

    @app.get("/instagram-graph/<version>/<object_id_>", endpoint="ig_publish_object")
    def read_object(version: str, object_id_: str) -> Response:
        account_id, problem = api.authenticate()
        if problem is not None or account_id is None:
            return problem or token_error(TokenProblem("invalid"))
        fields = (request.args.get("fields") or "id").split(",")
        container = api.containers().get(object_id_)
        if container is not None:
            if (refused := api.wrong_owner(container["owner"], account_id)) is not None:
                return refused
            _, answer = api.fault_for("container_status", account_id)
            if answer is not None:
                return answer
            status_code, status = api.container_status(container)
            full = {"id": object_id_, "status_code": status_code, "status": status,
                    "copyright_check_status": {"status": "completed", "matches_found": False}}
            return jsonify({k: v for k, v in full.items() if k in fields or k == "id"})
        item = api.media().get(object_id_)
        if item is not None:
            if (refused := api.wrong_owner(item["owner"], account_id)) is not None:
                return refused
            _, answer = api.fault_for("media", account_id)
            if answer is not None:
                return answer
            return jsonify({k: v for k, v in _media_view(item).items() if k in fields or k == "id"})
        return graph_error(400, 100, f"Unsupported get request. Object with ID '{object_id_}' does not exist, "
                                     "cannot be loaded due to missing permissions, or does not support this "
                                     "operation.", subcode=33, error_type="GraphMethodException")


def register(app: Flask, sb: Sandbox) -> None:
    api = _Instagram(sb)
    install_usage_accounting(app, sb)
    _container_routes(app, sb, api)
    _publishing_routes(app, sb, api)
    _media_routes(app, sb, api)


def _media_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "caption": item["caption"],
        "permalink": f"https://www.instagram.com/reel/{item['shortcode']}/",
        "shortcode": item["shortcode"],
        "media_type": "VIDEO",
        "media_product_type": "REELS",
        "timestamp": _graph_time(item["created"]),
    }
