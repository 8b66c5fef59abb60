"""TikTok Content Posting API simulator (open.tiktokapis.com), mounted under /tiktok.

Follows TikTok's reference: `error: {code, message, log_id}` on every answer
(`code == "ok"` is success), creator_info errors with HTTP 200, init errors with
400/401/403/429, the FILE_UPLOAD chunk rules (5-64 MB chunks, last one up to 128 MB,
floor(size/chunk) chunks, sequential Content-Range PUTs: 206 / 201, 416 on a range
mismatch, 403 once the upload_url expired), PULL_FROM_URL only for verified URL
prefixes, and status/fetch moving PROCESSING_UPLOAD / PROCESSING_DOWNLOAD to
PUBLISH_COMPLETE after `processing_seconds`, with the assembled bytes' sha256 recorded.

Accounts: `sb.add_account("tiktok", open_id, username=..., nickname=..., private=False,
comment_disabled=False, duet_disabled=False, stitch_disabled=False,
max_video_post_duration_sec=600, banned=False)`. Settings (sb.config, "tiktok." prefix
allowed): verified_url_prefixes (list), unaudited (bool: SELF_ONLY posts from private accounts
only, at most `unaudited_user_cap` (5) posting users per 24 h), daily_post_cap (int),
upload_url_ttl (s), processing_seconds, complete_status (the answer to the last chunk, default
201; TikTok may answer 200).

Rate limits per user access token and minute: 6 video/init, 30 status/fetch, 20 creator_info
(429 `rate_limit_exceeded` beyond; each refusal is kept in store "rate_limited"). Settings
`<operation>_per_minute` change them; `tiktok.clock` (unix time) replaces the wall clock for
these windows when a test drives time.

Metrics: `POST /v2/video/query/?fields=...` (scope video.list) with
`{"filters": {"video_ids": [...]}}` lists the caller's published videos with counts that
grow with age (sandbox/engagement.py); ids that are not the caller's are left out.

Fault operations: creator_info, init, upload, status, processing, video_query. Kinds: server_error,
rate_limited, expired_token, quota (spam_risk_too_many_posts), banned, active_user_cap,
unaudited, url_unverified, scope, lost_response (init: create, then drop the connection),
expired_upload_url (upload; any upload fault may name params.at_chunk),
processing_error (params.fail_reason, default "internal"), rejected_codec, plus the generic
timeout / reset (after_bytes) / status.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any

from flask import Flask, Response, jsonify, request

from sandbox.core import Fault, Sandbox, TokenProblem, drop_connection, fetch_video, generic_fault
from sandbox.engagement import engagement

# Each base-URL setting of this platform and the path it is mounted at here (the local stack and the
# tests point the setting at the sandbox: shared/local/sandbox_env.py).
SETTINGS_PREFIXES = {"TIKTOK_API_BASE": "/tiktok", "TIKTOK_WWW_BASE": "/tiktok-www"}

PLATFORM = "tiktok"
MB = 1024 * 1024
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
UPLOAD_TYPES = ("video/mp4", "video/quicktime", "video/webm")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "title",
                "like_count", "comment_count", "share_count", "view_count")

MESSAGES = {
    "access_token_invalid": "The access token is invalid or not found in the request.",
    "scope_not_authorized": "The user did not authorize the scope required for completing this request.",
    "spam_risk_too_many_posts": "The daily post cap from the API is reached for the current user.",
    "spam_risk_user_banned_from_posting": "The user is banned from making new posts.",
    "reached_active_user_cap": "The daily quota for active publishing users from your client is reached.",
    "unaudited_client_can_only_post_to_private_accounts": "Unaudited clients can only post to a private account.",
    "url_ownership_unverified": "The video URL's domain or prefix is not verified by the client.",
    "privacy_level_option_mismatch": "The privacy_level is not one of the creator's privacy_level_options.",
    "rate_limit_exceeded": "API rate limit exceeded. Please retry later.",
    "internal_error": "Something went wrong. Please try again later.",
}
FAULT_CODES = {  # fault kind -> (HTTP status on init, error code); creator_info answers 200 for the spam ones
    "quota": (403, "spam_risk_too_many_posts"),
    "banned": (403, "spam_risk_user_banned_from_posting"),
    "active_user_cap": (403, "reached_active_user_cap"),
    "unaudited": (403, "unaudited_client_can_only_post_to_private_accounts"),
    "url_unverified": (403, "url_ownership_unverified"),
    "expired_token": (401, "access_token_invalid"),
    "scope": (401, "scope_not_authorized"),
    "rate_limited": (429, "rate_limit_exceeded"),
    "server_error": (500, "internal_error"),
}
# Calls per minute per user access token, as TikTok documents them (429 rate_limit_exceeded beyond).
RATE_LIMITS = {"init": 6, "status": 30, "creator_info": 20}
CREATOR_INFO_200 = {"spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"}


def _answer(status: int, code: str, data: Any = None, message: str | None = None) -> Response:
    body = {
        "data": data if data is not None else {},
        "error": {"code": code, "message": message if message is not None else MESSAGES.get(code, ""),
                  "log_id": time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()},
    }
    response = jsonify(body)
    response.status_code = status
    return response


def _ok(data: Any) -> Response:
    return _answer(200, "ok", data, "")


class _TikTok:
    """The TikTok sandbox's publishes and the checks every endpoint shares (token, rate limits, caps, faults)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def publishes(self) -> dict[str, dict[str, Any]]:
        return self.sb.store(PLATFORM).setdefault("publishes", {})

    def account_of(self, open_id: str) -> dict[str, Any]:
        account = self.sb.account(PLATFORM, open_id) or {}
        return {
            "username": f"creator{open_id[-4:]}", "nickname": "TikTok Creator", "private": False,
            "comment_disabled": False, "duet_disabled": False, "stitch_disabled": False,
            "max_video_post_duration_sec": 600, "banned": False, **account,
        }

    def now(self) -> float:
        """The sandbox's clock for rate windows: `tiktok.clock` (a unix time) when a test drives time."""
        return self.sb.now(PLATFORM)

    def over_rate(self, operation: str, token_value: str) -> Response | None:
        """TikTok's per-token per-minute limits: 6 video/init, 30 status/fetch, 20 creator_info."""
        limit = int(self.sb.setting(f"{operation}_per_minute", PLATFORM, RATE_LIMITS[operation]))
        calls = self.sb.store(PLATFORM).setdefault("calls", {}).setdefault(f"{operation}:{token_value}", [])
        at = self.now()
        with self.sb.lock:
            calls[:] = [t for t in calls if t > at - 60]
            if len(calls) >= limit:
                self.sb.store(PLATFORM).setdefault("rate_limited", []).append((operation, token_value[-6:], at))
                return _answer(429, "rate_limit_exceeded")
            calls.append(at)
        return None

    def authenticate(self, scope: str, operation: str | None = None) -> tuple[str | None, Response | None]:
        header = request.headers.get("Authorization", "")
        value = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
        try:
            token = self.sb.check_token(PLATFORM, value)
        except TokenProblem:
            return None, _answer(401, "access_token_invalid")
        if token.scopes and not set(scope.split("|")) & set(token.scopes):
            return None, _answer(401, "scope_not_authorized")
        if operation is not None and (limited := self.over_rate(operation, token.value)) is not None:
            return None, limited
        return token.account_id, None

    def admit(self, scope: str, operation: str, *, rate_limited: bool = True) -> str | Response:
        """The caller's open_id, or the answer for a bad token, a rate limit or a fault asked for this operation."""
        open_id, problem = self.authenticate(scope, operation if rate_limited else None)
        if problem is not None or open_id is None:
            return problem or _answer(401, "access_token_invalid")
        _, answer = self.fault_answer(operation)
        return open_id if answer is None else answer

    def fault_answer(self, operation: str) -> tuple[Fault | None, Response | None]:
        fault = self.sb.take_fault(PLATFORM, operation)
        if fault is None:
            return None, None
        generic = generic_fault(fault)
        if generic is not None:
            return fault, generic
        if fault.kind in FAULT_CODES:
            status, code = FAULT_CODES[fault.kind]
            if operation == "creator_info" and code in CREATOR_INFO_200:
                status = 200
            return fault, _answer(status, code)
        return fault, None

    def over_daily_cap(self, open_id: str) -> bool:
        cap = self.sb.setting("daily_post_cap", PLATFORM)
        if cap is None:
            return False
        day_ago = time.time() - 86400
        posted = [p for p in self.sb.published_for(PLATFORM) if p["account_id"] == open_id and p["at"] > day_ago]
        return len(posted) >= int(cap)

    def posting_block(self, open_id: str, operation: str) -> Response | None:
        account = self.account_of(open_id)
        code = None
        if account["banned"]:
            code = "spam_risk_user_banned_from_posting"
        elif self.over_daily_cap(open_id):
            code = "spam_risk_too_many_posts"
        if code is None:
            return None
        return _answer(200 if operation == "creator_info" else 403, code)

    def unaudited_refusal(self, open_id: str, account: dict[str, Any], post_info: dict[str, Any]) -> Response | None:
        """Before TikTok's audit an app may post only SELF_ONLY, only from accounts that are private
        when posting, and only for 5 users per 24 h.
        https://developers.tiktok.com/doc/content-sharing-guidelines/ (Direct Post API, unaudited clients)"""
        if not self.sb.setting("unaudited", PLATFORM, False):
            return None
        if not account["private"] or post_info.get("privacy_level") != "SELF_ONLY":
            return _answer(403, "unaudited_client_can_only_post_to_private_accounts")
        day_ago = time.time() - 86400
        posters = {p["open_id"] for p in list(self.publishes().values())
                   if p["created_at"] > day_ago and not p["inbox"]}
        if open_id not in posters and len(posters) >= int(self.sb.setting("unaudited_user_cap", PLATFORM, 5)):
            return _answer(403, "reached_active_user_cap")
        return None

    def check_source(self, source: Any) -> tuple[Response | None, dict[str, Any]]:
        if not isinstance(source, dict) or source.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
            return _answer(400, "invalid_params", message="source_info.source is invalid"), {}
        if source["source"] == "PULL_FROM_URL":
            url = str(source.get("video_url") or "")
            prefixes = self.sb.setting("verified_url_prefixes", PLATFORM, []) or []
            if not url.startswith(tuple(prefixes)) or not prefixes:
                return _answer(403, "url_ownership_unverified"), {}
            return None, {"mode": "PULL_FROM_URL", "video_url": url}
        try:
            size, chunk, count = int(source["video_size"]), int(source["chunk_size"]), int(source["total_chunk_count"])
        except (KeyError, TypeError, ValueError):
            missing = "video_size, chunk_size and total_chunk_count are required"
            return _answer(400, "invalid_params", message=missing), {}
        problem = None
        if size <= 0:
            problem = "video_size must be positive"
        elif size < 5 * MB and (chunk != size or count != 1):
            problem = "videos under 5 MB must be uploaded as one chunk"
        elif size >= 5 * MB and not (5 * MB <= chunk <= 64 * MB) and not (chunk == size and size <= 64 * MB):
            problem = "chunk_size must be between 5 MB and 64 MB"
        elif size > 64 * MB and count < 2:
            problem = "videos over 64 MB must be uploaded in at least two chunks"
        elif count != size // chunk or not 1 <= count <= 1000:
            problem = "total_chunk_count must be floor(video_size / chunk_size), 1 to 1000"
        elif size - chunk * (count - 1) > 128 * MB:
            problem = "the last chunk may not exceed 128 MB"
        if problem:
            return _answer(400, "invalid_params", message=problem), {}
        return None, {"mode": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}

    def create_publish(self, inbox: bool) -> Response:
        scope = "video.upload" if inbox else "video.publish"
        open_id, problem = self.authenticate(scope, "init")
        if problem:
            return problem
        fault, answer = self.fault_answer("init")
        if answer is not None:
            return answer
        assert open_id is not None
        body = request.get_json(silent=True) or {}
        post_info = body.get("post_info") or {}
        if not inbox:
            blocked = self.posting_block(open_id, "init")
            if blocked is not None:
                return blocked
            account = self.account_of(open_id)
            options = PRIVATE_OPTIONS if account["private"] else PUBLIC_OPTIONS
            if post_info.get("privacy_level") not in options:
                return _answer(403, "privacy_level_option_mismatch")
            unaudited = self.unaudited_refusal(open_id, account, post_info)
            if unaudited is not None:
                return unaudited
            title = str(post_info.get("title") or "")
            if len(title.encode("utf-16-le")) // 2 > 2200:
                return _answer(400, "invalid_params", message="title exceeds 2200 UTF-16 code units")
        source_problem, source = self.check_source(body.get("source_info"))
        if source_problem is not None:
            return source_problem
        processing = self.sb.take_fault(PLATFORM, "processing")
        fail_reason = None
        if processing is not None:
            fail_reason = ("file_format_check_failed" if processing.kind == "rejected_codec"
                           else str(processing.params.get("fail_reason", "internal")))
        publish_id = f"v_pub_file~v2-1.{secrets.randbelow(10**18)}"
        upload_id, upload_token = secrets.token_hex(12), secrets.token_urlsafe(24)
        record = {
            "publish_id": publish_id, "open_id": open_id, "inbox": inbox, "post_info": post_info, **source,
            "received": 0, "hasher": hashlib.sha256(), "complete_at": None, "fail_reason": fail_reason,
            "created_at": time.time(), "upload_id": upload_id, "upload_token": upload_token,
            "upload_expires_at": time.time() + float(self.sb.setting("upload_url_ttl", PLATFORM, 3600)),
            "state": "PROCESSING_UPLOAD" if source["mode"] == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD",
            "post_id": None, "sha256": None,
        }
        with self.sb.lock:
            self.publishes()[publish_id] = record
        data: dict[str, Any] = {"publish_id": publish_id}
        if source["mode"] == "FILE_UPLOAD":
            data["upload_url"] = (f"{request.host_url}tiktok/upload/video/?upload_id={upload_id}"
                                  f"&upload_token={upload_token}")
        if fault is not None and fault.kind == "lost_response":
            drop_connection()
        return _ok(data)

    def advance(self, record: dict[str, Any]) -> None:
        """Move a publish forward once its bytes arrived and processing time has passed."""
        if record["state"] not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            return
        delay = self.sb.processing_seconds(PLATFORM, str(record["publish_id"]))
        if record["mode"] == "FILE_UPLOAD":
            if record["complete_at"] is None or self.sb.processing_clock() - record["complete_at"] < delay:
                return
            record["sha256"] = record["hasher"].hexdigest()
        else:
            if self.sb.processing_clock() - record["created_at"] < delay:
                return
            fetched = fetch_video(record["video_url"])
            if not fetched["ok"]:
                record.update(state="FAILED", fail_reason="video_pull_failed")
                return
            record["sha256"], record["received"] = fetched["sha256"], fetched["size"]
        if record["fail_reason"]:
            record["state"] = "FAILED"
            return
        post_id = str(7_300_000_000_000_000_000 + secrets.randbelow(10**17))
        record.update(post_id=post_id, state="SEND_TO_USER_INBOX" if record["inbox"] else "PUBLISH_COMPLETE")
        self.sb.record_publish(PLATFORM, record["open_id"], post_id, sha256=record["sha256"], size=record["received"],
                          caption=record["post_info"].get("title", ""), marker=record["publish_id"],
                          privacy_level=record["post_info"].get("privacy_level"), draft=record["inbox"],
                          post_info=record["post_info"], mode=record["mode"])


def _posting_routes(app: Flask, api: _TikTok) -> None:
    """Creator info and the two ways to start a publish (direct post, inbox)."""

    @app.post("/tiktok/v2/post/publish/creator_info/query/")
    def tiktok_creator_info() -> Response:
        open_id = api.admit("video.publish", "creator_info")
        if isinstance(open_id, Response):
            return open_id
        blocked = api.posting_block(open_id, "creator_info")
        if blocked is not None:
            return blocked
        account = api.account_of(open_id)
        return _ok({
            "creator_avatar_url": f"https://p16-sign.tiktokcdn.com/avatar/{open_id}.jpeg",
            "creator_username": account["username"],
            "creator_nickname": account["nickname"],
            "privacy_level_options": PRIVATE_OPTIONS if account["private"] else PUBLIC_OPTIONS,
            "comment_disabled": account["comment_disabled"],
            "duet_disabled": account["duet_disabled"],
            "stitch_disabled": account["stitch_disabled"],
            "max_video_post_duration_sec": account["max_video_post_duration_sec"],
        })

    @app.post("/tiktok/v2/post/publish/video/init/")
    def tiktok_video_init() -> Response:
        return api.create_publish(inbox=False)

    @app.post("/tiktok/v2/post/publish/inbox/video/init/")
    def tiktok_inbox_init() -> Response:
        return api.create_publish(inbox=True)


def _upload_routes(app: Flask, sb: Sandbox, api: _TikTok) -> None:
    """PUT of the video bytes, chunk by chunk."""

    @app.put("/tiktok/upload/video/")
    def tiktok_upload_chunk() -> Response:
        record = next((p for p in list(api.publishes().values())
                       if p.get("upload_id") == request.args.get("upload_id")
                       and p.get("upload_token") == request.args.get("upload_token")), None)
        if record is None:
            return Response("upload session not found", status=404)

        def read_body(limit: int) -> int:
            return len(request.stream.read(limit))

        def at_this_chunk(fault: Fault) -> bool:
            at_chunk = fault.params.get("at_chunk")
            if at_chunk is None:
                return True
            range_match = _RANGE.match(request.headers.get("Content-Range", ""))
            return range_match is not None and int(range_match.group(1)) // record["chunk_size"] == int(at_chunk)

        fault = sb.take_fault(PLATFORM, "upload", at_this_chunk)
        if fault is not None:
            if fault.kind == "expired_upload_url":
                record["upload_expires_at"] = 0.0
            elif fault.kind == "server_error":
                return Response("internal error", status=500)
            else:
                generic = generic_fault(fault, read_body)
                if generic is not None:
                    return generic
        if time.time() > record["upload_expires_at"]:
            return Response("upload_url expired", status=403)
        if request.headers.get("Content-Type") not in UPLOAD_TYPES:
            return Response("unsupported Content-Type", status=400)
        match = _RANGE.match(request.headers.get("Content-Range", ""))
        length = request.content_length
        if match is None or length is None:
            return Response("Content-Range and Content-Length are required", status=400)
        first, last, total = (int(g) for g in match.groups())
        size, chunk, count = record["video_size"], record["chunk_size"], record["total_chunk_count"]
        if total != size or last - first + 1 != length:
            return Response("Content-Range does not match the declared video size", status=400)
        index = first // chunk
        expected_last = size - 1 if index == count - 1 else first + chunk - 1
        if first != record["received"] or first % chunk or last != expected_last:
            return Response(f"range mismatch: expected bytes {record['received']}-", status=416)
        read = 0
        while read < length:
            piece = request.stream.read(min(MB, length - read))
            if not piece:
                break
            record["hasher"].update(piece)
            read += len(piece)
        if read != length:
            return Response("body shorter than Content-Length", status=400)
        record["received"] += read
        if record["received"] < size:
            return Response(status=206)
        record["complete_at"] = sb.processing_clock()
        # TikTok documents 201 for the last chunk, but the transfer protocol lets it answer any
        # 2xx, and some uploads see 200 (`tiktok.complete_status`); a client must accept both.
        return Response(status=int(sb.setting("complete_status", PLATFORM, 201)))


def _status_routes(app: Flask, sb: Sandbox, api: _TikTok) -> None:
    """The publish status a client polls."""

    @app.post("/tiktok/v2/post/publish/status/fetch/")
    def tiktok_status_fetch() -> Response:
        open_id = api.admit("video.publish|video.upload", "status")
        if isinstance(open_id, Response):
            return open_id
        body = request.get_json(silent=True) or {}
        record = api.publishes().get(str(body.get("publish_id")))
        if record is None or record["open_id"] != open_id:
            return _answer(400, "invalid_params", message="publish_id is invalid or not found")
        with sb.lock:
            api.advance(record)
        data: dict[str, Any] = {"status": record["state"]}
        if record["state"] == "FAILED":
            data["fail_reason"] = record["fail_reason"]
        if record["mode"] == "FILE_UPLOAD":
            data["uploaded_bytes"] = record["received"]
        else:
            data["downloaded_bytes"] = record["received"]
        public = record["post_info"].get("privacy_level") not in (None, "SELF_ONLY")
        data["publicaly_available_post_id"] = [int(record["post_id"])] if record["post_id"] and public else []
        return _ok(data)


def _video_query_routes(app: Flask, sb: Sandbox, api: _TikTok) -> None:
    """The creator's published videos with their counts."""

    @app.post("/tiktok/v2/video/query/")
    def tiktok_video_query() -> Response:
        open_id = api.admit("video.list", "video_query", rate_limited=False)
        if isinstance(open_id, Response):
            return open_id
        fields = [f for f in (request.args.get("fields") or "").split(",") if f]
        unknown = [f for f in fields if f not in VIDEO_FIELDS]
        if not fields or unknown:
            return _answer(400, "invalid_params", message=f"Invalid fields: {','.join(unknown) or '(none)'}")
        body = request.get_json(silent=True) or {}
        video_ids = [str(v) for v in ((body.get("filters") or {}).get("video_ids") or [])]
        if not 1 <= len(video_ids) <= 20:
            return _answer(400, "invalid_params", message="filters.video_ids must hold 1 to 20 ids")
        by_post = {p["post_id"]: p for p in list(api.publishes().values())
                   if p.get("post_id") and p["open_id"] == open_id and p["state"] == "PUBLISH_COMPLETE"}
        videos = []
        for video_id in video_ids:
            record = by_post.get(video_id)
            if record is None:
                continue
            created = float(record["complete_at"] or record["created_at"])
            counts = engagement(sb, video_id, created, platform=PLATFORM, caption=record["post_info"].get("title", ""))
            account = api.account_of(open_id)
            full = {
                "id": video_id, "create_time": int(created), "title": record["post_info"].get("title", ""),
                "video_description": record["post_info"].get("title", ""), "duration": 4,
                "cover_image_url": f"https://p16-sign.tiktokcdn.com/cover/{video_id}.jpeg",
                "share_url": f"https://www.tiktok.com/@{account['username']}/video/{video_id}",
                "like_count": counts.likes, "comment_count": counts.comments, "share_count": counts.shares,
                "view_count": counts.views,
            }
            videos.append({k: v for k, v in full.items() if k in fields})
        return _ok({"videos": videos, "cursor": 0, "has_more": False})


def register(app: Flask, sb: Sandbox) -> None:
    api = _TikTok(sb)
    _posting_routes(app, api)
    _upload_routes(app, sb, api)
    _status_routes(app, sb, api)
    _video_query_routes(app, sb, api)
