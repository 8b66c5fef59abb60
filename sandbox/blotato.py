"""Blotato (backend.blotato.com) simulator, mounted under /blotato.

Follows help.blotato.com's API pages: key in the `blotato-api-key` header, 201 on
create, `in-progress` -> `published` | `failed` on GET /v2/posts/{id} (and
`in-progress` for ids it does not know, as the real API does), a list that shows
only finished posts (with Blotato's own copy of any media URL it did not host itself:
only a URL returned by `POST /v2/media` is listed as sent), 429 "Rate limit exceeded,
retry in N seconds", 422 on validation errors, 500 with code 9999.

Accounts: `sb.add_account("blotato", "<accountId>", owner="<api-key account>",
network="tiktok", username=..., fullname=...)`; API keys:
`sb.mint_token("blotato", "<user id>")`.

Media: a video that is not H.264/HEVC is converted by Blotato, but only up to 120 s: a longer one
fails (setting `blotato.probe_media`, default True).

Scheduling (https://help.blotato.com/api-and-mcp-concepts/scheduling, /api/schedules.md): a root
`scheduledTime` (a future UTC ISO time) makes the post `scheduled` (GET /v2/posts/{id} answers
`scheduled` with its `scheduledTime`) until that time by the sandbox's clock (`sb.now`), when
it starts publishing; GET /v2/schedules lists the future ones (ids `sch_...`, `scheduledAt`,
`draft`), DELETE /v2/schedules/{id} removes one before it publishes.

Fault operations: media, create_post, get_post, list_posts, users, processing, schedules.
Kinds: server_error, rate_limited (params.retry_in), quota (params.retry_in),
expired_token, validation (params.message), lost_response (create the post, then
drop the connection), processing_error (params.message), rejected_codec, plus the
generic timeout / reset / status.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from sandbox.core import Fault, Sandbox, TokenProblem, drop_connection, fetch_video, generic_fault
from sandbox.graph_common import probe_codecs

# Each base-URL setting of this platform and the path it is mounted at here (the local stack and the
# tests point the setting at the sandbox: shared/local/sandbox_env.py).
SETTINGS_PREFIXES = {"BLOTATO_API_BASE": "/blotato"}

PLATFORM = "blotato"
PRIVACY_LEVELS = ("SELF_ONLY", "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR")
TIKTOK_BOOLEANS = ("disabledComments", "disabledDuet", "disabledStitch", "isBrandedContent", "isYourBrand",
                   "isAiGenerated")
SUPPORTED_PLATFORMS = ("twitter", "linkedin", "facebook", "instagram", "pinterest", "tiktok", "threads", "bluesky",
                       "youtube", "other")
CODEC_REJECTION = "Video processing failed: unsupported video codec. TikTok accepts H.264 or H.265 video."
INTERNAL_FAILURE = "TikTok API error: internal error while publishing"
# Per Blotato user and minute (https://help.blotato.com/api/start); 429 beyond, kept in store
# "rate_limited". `blotato.clock` (unix time) replaces the wall clock when a test drives time.
RATE_LIMITS = {"create_post": 30, "media": 10, "get_post": 60}
# Blotato re-encodes a video that is not H.264/HEVC in MP4 itself, but only up to 120 s of video.
# https://help.blotato.com/tips-and-tricks/social-platform-requirements
IN_SPEC_CODECS = ("h264", "hevc")
CONVERSION_MAX_SECONDS = 120.0
CONVERSION_TOO_LONG = ("Media conversion failed: video conversion is limited to 120 seconds. "
                       "Upload an H.264/AAC MP4 to skip conversion.")


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify(statusCode=status, message=message, **extra)
    response.status_code = status
    return response


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class _Blotato:
    """The Blotato sandbox's state and the checks every endpoint shares (API key, rate limits, faults)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def posts(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("posts", {})

    def media(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("media", {})

    def fault_answer(self, operation: str) -> tuple[Fault | None, Response | None]:
        fault = self.sb.take_fault(PLATFORM, operation)
        if fault is None:
            return None, None
        generic = generic_fault(fault)
        if generic is not None:
            return fault, generic
        if fault.kind == "server_error":
            return fault, _error(500, "Internal server error", code=9999)
        if fault.kind in ("rate_limited", "quota"):
            seconds = int(fault.params.get("retry_in", 30 if fault.kind == "rate_limited" else 60))
            return fault, _error(429, f"Rate limit exceeded, retry in {seconds} seconds")
        if fault.kind == "expired_token":
            return fault, _error(401, "Invalid API key")
        if fault.kind == "validation":
            message = fault.params.get("message", "body/post must have required property 'target'")
            return fault, _error(422, str(message))
        return fault, None  # lost_response, processing_error, rejected_codec: the handler decides

    def over_rate(self, operation: str, owner: str) -> Response | None:
        """Blotato's per-user minute limits: 30 posts, 10 media uploads, 60 post reads."""
        if operation not in RATE_LIMITS:
            return None
        limit = int(self.sb.setting(f"{operation}_per_minute", PLATFORM, RATE_LIMITS[operation]))
        at = self.sb.now(PLATFORM)
        with self.sb.lock:
            calls = self.sb.store(PLATFORM).setdefault("calls", {}).setdefault(f"{operation}:{owner}", [])
            calls[:] = [t for t in calls if t > at - 60]
            if len(calls) >= limit:
                self.sb.store(PLATFORM).setdefault("rate_limited", []).append((operation, owner, at))
                return _error(429, f"Rate limit exceeded, retry in {max(1, round(calls[0] + 60 - at))} seconds")
            calls.append(at)
        return None

    def admit(self, operation: str) -> tuple[Any, Fault | None, Response | None]:
        """Check the API key, then any fault asked for this operation; an answer means: send it."""
        owner, problem = self.authenticate()
        if problem:
            return owner, None, problem
        limited = self.over_rate(operation, str(owner))
        if limited is not None:
            return owner, None, limited
        fault, answer = self.fault_answer(operation)
        return owner, fault, answer

    def authenticate(self) -> tuple[str | None, Response | None]:
        try:
            token = self.sb.check_token(PLATFORM, request.headers.get("blotato-api-key"))
        except TokenProblem:
            return None, _error(401, "Invalid API key")
        return token.account_id, None

    def conversion_too_long(self, url: str) -> bool:
        """Would Blotato have to convert this video, and is it too long for that?"""
        if not self.sb.setting("probe_media", PLATFORM, True):
            return False
        source = (self.media().get(url) or {}).get("source_url") or url
        codec, duration = probe_codecs(source)
        return codec is not None and codec not in IN_SPEC_CODECS and duration > CONVERSION_MAX_SECONDS

    def rehosted_url(self) -> str:
        return f"{request.host_url}blotato/database/{uuid.uuid4().hex}.mp4"

    def settle(self, post: dict[str, Any]) -> None:
        """Finish a post once processing time has passed: fetch the media like Blotato does."""
        if post["status"] == "scheduled" and self.sb.now(PLATFORM) >= post["scheduled_for"]:
            # Its time: Blotato started publishing it then, whenever it is next looked at.
            post.update(status="in-progress", created_at=post["scheduled_for"])
        if post["status"] != "in-progress":
            return
        if self.sb.processing_clock() - post["created_at"] < self.sb.processing_seconds(PLATFORM, post["id"]):
            return
        if post.get("fail_message"):
            post.update(status="failed", errorMessage=post["fail_message"])
        else:
            url = post["sourceUrls"][0]
            fetched = self.media().get(url) or fetch_video(url)
            if not fetched.get("ok", True) or not fetched.get("sha256"):
                post.update(status="failed",
                            errorMessage=f"Failed to download media from URL (HTTP {fetched['status']})")
            elif self.conversion_too_long(url):
                post.update(status="failed", errorMessage=CONVERSION_TOO_LONG)
            else:
                account = self.sb.account(PLATFORM, post["accountId"]) or {}
                username = account.get("username", "creator")
                video_id = str(7_000_000_000_000_000_000 + int(uuid.uuid4().int % 10**17))
                post.update(status="published", publicUrl=f"https://www.tiktok.com/@{username}/video/{video_id}",
                            publishedId=video_id)
                self.sb.record_publish(PLATFORM, post["accountId"], video_id, sha256=fetched["sha256"],
                                  size=fetched.get("size"), caption=post["text"], marker=url,
                                  post_submission_id=post["id"], target=post["target"])
        post["postTime"] = time.time()

    def validate_post(self, body: Any, owner: str) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("post"), dict):
            return "body must have required property 'post'"
        post = body["post"]
        for name in ("accountId", "content", "target"):
            if name not in post:
                return f"body/post must have required property '{name}'"
        content, target = post["content"], post["target"]
        if not isinstance(content.get("text"), str):
            return "body/post/content must have required property 'text'"
        if not isinstance(content.get("mediaUrls"), list):
            return "body/post/content must have required property 'mediaUrls'"
        if content.get("platform") not in SUPPORTED_PLATFORMS:
            return "body/post/content/platform must be equal to one of the allowed values"
        if target.get("targetType") != content.get("platform"):
            return "content.platform and target.targetType must match"
        account = self.sb.account(PLATFORM, str(post["accountId"]))
        if account is None or account.get("owner") != owner:
            return f"Account {post['accountId']} not found"
        if account.get("network") != content["platform"]:
            return f"Account {post['accountId']} is not a {content['platform']} account"
        if "scheduledTime" in post or "useNextFreeSlot" in post:
            return "body/post must NOT have additional properties (scheduledTime belongs at the root)"
        if content["platform"] == "tiktok":
            if target.get("privacyLevel") not in PRIVACY_LEVELS:
                return "body/post/target/privacyLevel must be equal to one of the allowed values"
            for name in TIKTOK_BOOLEANS:
                if not isinstance(target.get(name), bool):
                    return f"body/post/target must have required property '{name}'"
            if not content["mediaUrls"]:
                return "TikTok posts need one video in mediaUrls"
        return None


def _user_routes(app: Flask, sb: Sandbox, api: _Blotato) -> None:
    """GET /v2/users/me and its accounts."""

    @app.get("/blotato/v2/users/me")
    def blotato_me() -> Response:
        owner, _, answer = api.admit("users")
        if answer is not None:
            return answer
        return jsonify(id=owner, subscriptionStatus="active", apiKey=request.headers.get("blotato-api-key"))

    @app.get("/blotato/v2/users/me/accounts")
    def blotato_accounts() -> Response:
        owner, _, answer = api.admit("users")
        if answer is not None:
            return answer
        wanted = request.args.get("platform")
        with sb.lock:
            accounts = [a for (p, _), a in sb.accounts.items() if p == PLATFORM and a.get("owner") == owner]
        items = [
            {"id": a["id"], "platform": a.get("network", "tiktok"), "fullname": a.get("fullname", ""),
             "username": a.get("username", "")}
            for a in accounts if wanted in (None, a.get("network", "tiktok"))
        ]
        return jsonify(items=items)


def _media_routes(app: Flask, sb: Sandbox, api: _Blotato) -> None:
    """POST /v2/media: Blotato fetches and hosts a video."""

    @app.post("/blotato/v2/media")
    def blotato_media() -> Response:
        _, _, answer = api.admit("media")
        if answer is not None:
            return answer
        body = request.get_json(silent=True) or {}
        if not isinstance(body.get("url"), str) or not body["url"]:
            return _error(422, "body must have required property 'url'")
        fetched = fetch_video(body["url"])
        if not fetched["ok"]:
            return _error(422, f"Failed to download media from URL (HTTP {fetched['status']})")
        hosted = api.rehosted_url()
        with sb.lock:
            api.media()[hosted] = {**fetched, "source_url": body["url"]}  # what conversion checks read
        response = jsonify(url=hosted)
        response.status_code = 201
        return response


def _post_routes(app: Flask, sb: Sandbox, api: _Blotato) -> None:
    """Posts: create, read one, list."""

    @app.post("/blotato/v2/posts")
    def blotato_create_post() -> Response:
        owner, fault, answer = api.admit("create_post")
        if answer is not None:
            return answer
        body: Any = request.get_json(silent=True)  # any JSON at all until validate_post accepts it
        problem_text = api.validate_post(body, str(owner))
        if problem_text:
            return _error(422, problem_text)
        post_body = body["post"]
        scheduled_for = None
        if body.get("scheduledTime") is not None:
            try:
                scheduled_for = _parse_iso(str(body["scheduledTime"]))
            except ValueError:
                return _error(422, "body/scheduledTime must match format \"date-time\"")
            if scheduled_for <= sb.now(PLATFORM):
                return _error(422, "scheduledTime must be in the future")
        fail_message = None
        processing = fault if fault and fault.kind in ("processing_error", "rejected_codec") else None
        processing = processing or sb.take_fault(PLATFORM, "processing")
        if processing is not None:
            fail_message = (CODEC_REJECTION if processing.kind == "rejected_codec"
                            else str(processing.params.get("message", INTERNAL_FAILURE)))
        post_id = str(uuid.uuid4())
        sent = [str(url) for url in post_body["content"]["mediaUrls"]]
        with sb.lock:
            api.posts()[post_id] = {
                "id": post_id,
                "owner": owner,
                "accountId": str(post_body["accountId"]),
                "text": post_body["content"]["text"],
                # Blotato transfers media it does not host itself and lists its own copy; a URL
                # from POST /v2/media is Blotato's already and stays as it is.
                "mediaUrls": [url if url in api.media() else api.rehosted_url() for url in sent],
                "sourceUrls": sent,
                "platform": post_body["content"]["platform"],
                "target": post_body["target"],
                "created_at": sb.processing_clock(),
                "postTime": time.time(),
                "status": "in-progress" if scheduled_for is None else "scheduled",
                "scheduled_for": scheduled_for,
                "schedule_id": None if scheduled_for is None else f"sch_{uuid.uuid4().hex[:12]}",
                "publicUrl": None,
                "errorMessage": None,
                "fail_message": fail_message,
            }
        if fault is not None and fault.kind == "lost_response":
            drop_connection()
        created = {"postSubmissionId": post_id}
        if scheduled_for is not None:
            created["scheduledTime"] = _iso(scheduled_for)
        response = jsonify(created)
        response.status_code = 201
        return response

    @app.get("/blotato/v2/posts/<post_id>")
    def blotato_get_post(post_id: str) -> Response:
        owner, _, answer = api.admit("get_post")
        if answer is not None:
            return answer
        post = api.posts().get(post_id)
        if post is None or post["owner"] != owner:
            # Blotato answers in-progress for ids it cannot match to a finished record.
            return jsonify(postSubmissionId=post_id, status="in-progress", publicUrl=None, errorMessage=None)
        api.settle(post)
        extra = {"scheduledTime": _iso(post["scheduled_for"])} if post["status"] == "scheduled" else {}
        return jsonify(postSubmissionId=post_id, status=post["status"], publicUrl=post["publicUrl"],
                       errorMessage=post["errorMessage"], **extra)

    @app.get("/blotato/v2/posts")
    def blotato_list_posts() -> Response:
        owner, _, answer = api.admit("list_posts")
        if answer is not None:
            return answer
        now = time.time()
        since = _parse_iso(request.args["since"]) if request.args.get("since") else now - 7 * 86400
        until = _parse_iso(request.args["until"]) if request.args.get("until") else now + 7 * 86400
        limit = min(max(int(request.args.get("limit", 50)), 1), 250)
        statuses = request.args.getlist("status")
        platforms = request.args.getlist("platform")
        mine = [p for p in list(api.posts().values()) if p["owner"] == owner]
        for post in mine:
            api.settle(post)
        listed = [
            p for p in mine
            if p["status"] in ("published", "failed")   # in-progress posts are not listed
            and since <= p["postTime"] <= until
            and (not statuses or p["status"] in statuses)
            and (not platforms or p["platform"] in platforms)
        ]
        listed.sort(key=lambda p: p["postTime"], reverse=True)
        start = int(request.args.get("cursor") or 0)
        page = listed[start:start + limit]
        items = [
            {
                "id": p.get("publishedId") or f"failed-{p['id']}",
                "postTime": _iso(p["postTime"]),
                "platform": p["platform"],
                "accountId": p["accountId"],
                "text": p["text"],
                "mediaUrls": p["mediaUrls"],
                "status": p["status"],
                "publicUrl": p["publicUrl"],
                "errorMessage": p["errorMessage"],
            }
            for p in page
        ]
        result: dict[str, Any] = {"items": items}
        if start + limit < len(listed):
            result["cursor"] = str(start + limit)
        return jsonify(result)


def _schedule_routes(app: Flask, sb: Sandbox, api: _Blotato) -> None:
    """Scheduled posts: list and cancel."""

    @app.get("/blotato/v2/schedules")
    def blotato_schedules() -> Response:
        """The caller's future scheduled posts, soonest first (https://help.blotato.com/api/schedules.md)."""
        owner, _, answer = api.admit("schedules")
        if answer is not None:
            return answer
        mine = [p for p in list(api.posts().values()) if p["owner"] == owner]
        for post in mine:
            api.settle(post)
        future = sorted((p for p in mine if p["status"] == "scheduled"), key=lambda p: p["scheduled_for"])
        limit = min(max(int(request.args.get("limit", 20)), 1), 50)
        start = int(request.args.get("cursor") or 0)
        items = [{"id": p["schedule_id"], "scheduledAt": _iso(p["scheduled_for"]),
                  "account": {"id": p["accountId"]},
                  "draft": {"accountId": p["accountId"], "content": {"text": p["text"], "mediaUrls": p["sourceUrls"],
                                                                     "platform": p["platform"]},
                            "target": p["target"]}}
                 for p in future[start:start + limit]]
        result: dict[str, Any] = {"items": items, "count": str(len(future))}
        if start + limit < len(future):
            result["cursor"] = str(start + limit)
        return jsonify(result)

    @app.delete("/blotato/v2/schedules/<schedule_id>")
    def blotato_delete_schedule(schedule_id: str) -> Response:
        owner, _, answer = api.admit("schedules")
        if answer is not None:
            return answer
        found = next((p for p in list(api.posts().values()) if p["owner"] == owner
                      and p.get("schedule_id") == schedule_id and p["status"] == "scheduled"), None)
        if found is None:
            return _error(404, "Schedule not found")
        with sb.lock:
            api.posts().pop(found["id"])
            sb.store(PLATFORM).setdefault("deleted", {})[found["id"]] = found
        return Response(status=204)


def register(app: Flask, sb: Sandbox) -> None:
    api = _Blotato(sb)
    _user_routes(app, sb, api)
    _media_routes(app, sb, api)
    _post_routes(app, sb, api)
    _schedule_routes(app, sb, api)
