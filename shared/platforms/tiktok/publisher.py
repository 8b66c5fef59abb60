"""TikTok Direct Post (Content Posting API), in resumable steps.

Steps
  creator_info  read-only: creator_info/query (mandatory before a Direct Post). Checks the
                creator may post now, the audience is allowed, and forces the interaction
                toggles the creator has disabled.
  init          irreversible: video/init (or inbox/video/init for drafts). Returns publish_id,
                persisted before any chunk is sent.
  upload        irreversible: sequential chunk PUTs to upload_url (FILE_UPLOAD only). The last
                chunk is what makes TikTok publish.
  check_status  read-only: status/fetch until PUBLISH_COMPLETE, SEND_TO_USER_INBOX or FAILED.

Staged ahead of a scheduled slot (shared/publishing/staging.py): TikTok's Content Posting API has
no scheduled publish (video/init takes no publish time, and the last chunk makes TikTok publish at
once: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post), so nothing
goes to TikTok before the slot. What can fail ahead runs `stage_lead()` before it: the pipeline
refreshes the token and makes TikTok's converted copy of the video (the job's media), and
`creator_info` checks the creator may post and the chosen audience and duration (a Direct Post
starts with the creator_info query, whose latest answer decides the privacy options:
https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info). `init` is the
slot step: the upload starts at the slot. An audience the creator no longer offers by then is
still refused by init itself (`privacy_level_option_mismatch`). Nothing is on TikTok while it waits, so a cancel or an
edit only drops the staged step data (no `unstage_step`), and an edit stages again from creator_info.

Reconciling `init` when its answer never arrived: TikTok has no listing of in-flight
publishes, and without the answer we have no publish_id to ask about. For FILE_UPLOAD
that is harmless: an init only opens an upload slot, and TikTok publishes nothing until
all chunks reach *that* slot's upload_url, which only the lost answer carried. The
orphan expires with its upload_url after an hour, so a second init is safe. For
PULL_FROM_URL the init itself makes TikTok fetch and publish the video, so a redo could
post twice: there we stop and ask the user to check their profile instead.

A FAILED publish can never go live, so a failure whose cause may pass (internal error,
pull failure, revoked access, daily cap) restarts from creator_info, which then reports
the current state (e.g. the reconnect or the quota) with the right error class.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from shared.log import get_logger
from shared.platforms import polling
from shared.platforms.base import (
    Credentials,
    MediaRules,
    MediaSource,
    PlatformAdapter,
    PlatformLimits,
    PostMetrics,
    PublishedPost,
    PublishJob,
    QuotaRule,
    SettingsDerived,
    Step,
    StepOutcome,
    TextRule,
)
from shared.platforms.errors import PermanentError, PlatformError, QuotaError, TransientError, outcome_unknown
from shared.platforms.tiktok import errors
from shared.platforms.tiktok.chunks import ChunkPlan, plan_chunks
from shared.platforms.tiktok.settings import TikTokSettings

log = get_logger(__name__)

UPLOAD_CONTENT_TYPES = ("video/mp4", "video/quicktime", "video/webm")
METRIC_FIELDS = "id,like_count,comment_count,share_count,view_count"
IN_PROGRESS = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD")
MAX_RESTARTS = 3
RESTART_WAIT_SECONDS = 60.0
READ_PIECE = 1024 * 1024
# Cleared when a publish is abandoned and started again.
PUBLISH_KEYS = ("publish_id", "upload_url", "chunk_size", "total_chunk_count", "video_size", "next_chunk",
                "complete_since")


def tiktok_media_rules(*, min_seconds: float, max_seconds: float, max_bytes: int) -> MediaRules:
    """What TikTok accepts (platform-apis.md 2.9); Blotato hands videos to TikTok, so it shares these."""
    return MediaRules(
        min_duration_s=min_seconds,
        max_duration_s=max_seconds,
        max_size_bytes=max_bytes,
        min_aspect=9 / 16,
        max_aspect=16 / 9,
        min_width=360,
        min_height=360,
        max_width=4096,
        max_height=4096,
        containers=("mp4", "mov", "webm"),
        video_codecs=("h264", "hevc", "vp8", "vp9"),
    )


def limits_from(settings: TikTokSettings) -> PlatformLimits:
    return PlatformLimits(
        caption=TextRule(max_length=settings.caption_max_utf16, unit="utf16"),
        media=tiktok_media_rules(min_seconds=settings.min_video_seconds, max_seconds=settings.max_video_seconds,
                                 max_bytes=settings.max_video_bytes),
    )


def quotas_from(settings: TikTokSettings) -> tuple[QuotaRule, ...]:
    # TikTok counts these per user access token, i.e. per connected account: 6 video/init, 30
    # status/fetch and 20 creator_info calls per minute.
    # https://developers.tiktok.com/doc/content-posting-api-reference-direct-post (init: 6 per minute),
    # https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status (30 per minute),
    # https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info (20 per minute)
    return (
        QuotaRule("tiktok_init", settings.init_per_minute, "account", "per_minute",
                  "TikTok allows only a few uploads per minute. Your video will start in a minute.",
                  steps=("init",)),
        QuotaRule("tiktok_status", settings.status_per_minute, "account", "per_minute",
                  "We're checking on your TikTok video a little more slowly to stay within TikTok's limits.",
                  steps=("check_status",),
                  # reconcile("upload") reads status/fetch too (the same 30/minute per token).
                  reconcile_steps=("upload",)),
        # One creator_info call a minute is left free for connecting the account (oauth.py asks too).
        QuotaRule("tiktok_creator_info", max(1, settings.creator_info_per_minute - 1), "account", "per_minute",
                  "TikTok asked us to slow down. We'll continue automatically in a minute.",
                  steps=("creator_info",)),
        QuotaRule("tiktok_daily_posts", settings.daily_posts_per_creator, "account", "rolling_24h",
                  "TikTok's daily posting limit for this account was reached. Your video will publish tomorrow."),
    )


def cover_timestamp_ms(options: Mapping[str, Any]) -> int | None:
    """The cover frame from `video_cover_timestamp_ms`, or the friendlier `cover_offset_seconds`."""
    if options.get("video_cover_timestamp_ms") not in (None, ""):
        return int(options["video_cover_timestamp_ms"])
    if options.get("cover_offset_seconds") not in (None, ""):
        return round(float(options["cover_offset_seconds"]) * 1000)
    return None


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _limited(source: MediaSource, first: int, length: int) -> Iterator[bytes]:
    """Stream exactly `length` bytes of the video from `first`, never holding a whole chunk."""
    remaining = length
    for piece in source.read_chunks(first, READ_PIECE):
        if remaining <= 0:
            break
        piece = piece[:remaining]
        remaining -= len(piece)
        yield piece
    if remaining:
        raise TransientError("The video could not be read from storage. We'll retry automatically.",
                             platform=errors.PLATFORM, code="short_read", detail={"missing_bytes": remaining})


class TikTokAdapter(PlatformAdapter):
    key = "tiktok"
    network = "tiktok"
    display_name = "TikTok"
    limits = SettingsDerived(limits_from)
    quotas = SettingsDerived(quotas_from)
    steps: ClassVar[Mapping[str, Step]] = {
        "creator_info": Step("creator_info", irreversible=False, phase="uploading"),
        "init": Step("init", irreversible=True, phase="uploading"),
        "upload": Step("upload", irreversible=True, phase="uploading"),
        "check_status": Step("check_status", irreversible=False, phase="processing", may_be_live=True),
    }
    first_step = "creator_info"
    # Staged: creator_info (and the token refresh and the converted copy the job needs) ahead; the
    # upload starts at the slot (see the module docstring).
    slot_step = "init"
    settings_class = TikTokSettings
    settings: TikTokSettings

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        publish_id = data.get("publish_id")
        if step == "init":
            if publish_id:
                # The init answer was persisted: it happened. Continue where it would have led.
                return StepOutcome("upload" if data.get("upload_url") else "check_status", {})
            if self._upload_mode(job) == "PULL_FROM_URL":
                raise PermanentError(
                    "We couldn't confirm whether TikTok received your video. Check your TikTok profile: "
                    "if the video is not there, publish again.",
                    platform=errors.PLATFORM, code="init_unconfirmed",
                )
            return None  # FILE_UPLOAD: an orphan init never publishes (see module docstring)
        if step == "upload":
            if not publish_id:
                return None
            status = self._fetch_status(job, str(publish_id))
            plan = self._plan(data)
            uploaded = int(status.get("uploaded_bytes") or 0)
            if status.get("status") != "PROCESSING_UPLOAD" or uploaded >= plan.video_size:
                return StepOutcome("check_status", {})
            done_chunks = min(uploaded // plan.chunk_size, plan.total_chunk_count - 1)
            if done_chunks > int(data.get("next_chunk") or 0):
                return StepOutcome("upload", {"next_chunk": done_chunks})
            return None
        return None  # read-only steps

    def fetch_metrics(self, credentials: Credentials, platform_post_id: str, *, now: datetime) -> PostMetrics:
        """Counts from /v2/video/query/ (scope video.list) for a public post id."""
        if not platform_post_id.isdigit():
            # A publish_id: the post is private, a draft, or still in moderation, so TikTok has no video id.
            raise PermanentError(
                "TikTok has not made this video public yet (it is private, a draft or still being reviewed), "
                "so there are no numbers to show.",
                platform=errors.PLATFORM, code="no_public_video_id", detail={"post_id": platform_post_id},
            )
        answer = self._post(credentials.access_token, f"/v2/video/query/?fields={METRIC_FIELDS}",
                            {"filters": {"video_ids": [platform_post_id]}}, now=now)
        video = next((v for v in answer.get("videos") or [] if str(v.get("id")) == platform_post_id), None)
        if video is None:
            raise PermanentError(
                "TikTok no longer lists this video: it may have been deleted or made private.",
                platform=errors.PLATFORM, code="video_not_found", detail={"video_id": platform_post_id},
            )

        def count(name: str) -> int | None:
            value = video.get(name)
            return int(value) if isinstance(value, int) else None

        return PostMetrics(views=count("view_count"), likes=count("like_count"), comments=count("comment_count"),
                           shares=count("share_count"), raw=dict(video))

    # ------------------------------------------------------------------ steps

    def _creator_info(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        if job.options.get("send_to_inbox"):
            # Inbox drafts need only video.upload; the creator sets audience and toggles in the app.
            return StepOutcome("init", {"inbox": True, "username": job.credentials.username})
        info = self._api(job, "/v2/post/publish/creator_info/query/", None)
        options = info.get("privacy_level_options") or []
        privacy = str(job.options.get("privacy_level") or self.settings.default_privacy_level)
        self._check_unaudited_rules(options, privacy)
        if privacy not in options:
            raise errors.make_error("privacy_level_option_mismatch", "privacy_level_option_mismatch",
                                    {"chosen": privacy, "options": options}, None, now=job.now)
        max_seconds = info.get("max_video_post_duration_sec")
        duration = job.options.get("duration_seconds")
        if max_seconds and duration and float(duration) > float(max_seconds):
            raise PermanentError(
                f"This TikTok account can post videos up to {int(max_seconds)} seconds long; this video is "
                f"{int(float(duration))} seconds. Trim it and publish again.",
                platform=errors.PLATFORM, code="duration_over_creator_limit",
                detail={"max_video_post_duration_sec": max_seconds, "duration": duration},
            )
        title = job.full_caption
        if utf16_length(title) > self.settings.caption_max_utf16:
            raise PermanentError(
                f"The TikTok caption is too long. Shorten it to {self.settings.caption_max_utf16} characters.",
                platform=errors.PLATFORM, code="title_too_long", detail={"length": utf16_length(title)},
            )
        post_info: dict[str, Any] = {
            "privacy_level": privacy,
            "title": title,
            # A toggle the creator disabled in TikTok must stay disabled on the post.
            "disable_comment": bool(job.options.get("disable_comment")) or bool(info.get("comment_disabled")),
            "disable_duet": bool(job.options.get("disable_duet")) or bool(info.get("duet_disabled")),
            "disable_stitch": bool(job.options.get("disable_stitch")) or bool(info.get("stitch_disabled")),
            "brand_content_toggle": bool(job.options.get("brand_content_toggle", False)),
            "brand_organic_toggle": bool(job.options.get("brand_organic_toggle", False)),
            # Our videos are AI-generated; TikTok asks for the label.
            "is_aigc": bool(job.options.get("is_aigc", True)),
        }
        cover_ms = cover_timestamp_ms(job.options)
        if cover_ms is not None:
            # TikTok takes no cover image, only the frame to show: milliseconds into the video.
            post_info["video_cover_timestamp_ms"] = cover_ms
        return StepOutcome("init", {
            "inbox": False,
            "username": info.get("creator_username") or job.credentials.username,
            "nickname": info.get("creator_nickname"),
            "post_info": post_info,
        })

    def _check_unaudited_rules(self, options: list[str], privacy: str) -> None:
        """An unaudited app may post only SELF_ONLY from a private account: say so before any upload.
        creator_info tells a private account by its options (FOLLOWER_OF_CREATOR, never PUBLIC_TO_EVERYONE).
        https://developers.tiktok.com/doc/content-sharing-guidelines/"""
        if self.settings.app_audited:
            return
        public_account = "PUBLIC_TO_EVERYONE" in options
        if public_account or privacy != "SELF_ONLY":
            raise PermanentError(errors.UNAUDITED_MESSAGE, platform=errors.PLATFORM,
                                 code="unaudited_app_public_account" if public_account else "unaudited_app_self_only",
                                 detail={"privacy_level": privacy, "options": options})

    def _init(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        mode = self._upload_mode(job)
        source_info: dict[str, Any] = {"source": mode}
        plan: ChunkPlan | None = None
        if mode == "FILE_UPLOAD":
            plan = plan_chunks(job.video.size, self.settings.chunk_bytes)
            source_info.update(video_size=plan.video_size, chunk_size=plan.chunk_size,
                               total_chunk_count=plan.total_chunk_count)
        else:
            source_info["video_url"] = job.video.url
        if data.get("inbox"):
            path, body = "/v2/post/publish/inbox/video/init/", {"source_info": source_info}
        else:
            path, body = "/v2/post/publish/video/init/", {"post_info": data["post_info"], "source_info": source_info}
        try:
            answer = self._api(job, path, body)
        except QuotaError as exc:
            if exc.code == "reached_active_user_cap" and not self.settings.app_audited:
                exc.user_message = errors.UNAUDITED_USER_CAP_MESSAGE
                exc.args = (exc.user_message,)
            raise
        publish_id = str(answer["publish_id"])
        log.info("tiktok.init", publish_id=publish_id, mode=mode,
                 chunks=plan.total_chunk_count if plan else None)
        if plan is None:
            checks, wait = polling.first_check(self.settings.poll_first_seconds, self.settings.poll_seconds)
            return StepOutcome("check_status", {"publish_id": publish_id, "upload_url": None, **checks},
                               wait_seconds=wait)
        # publish_id is persisted with this outcome before the first chunk is sent.
        return StepOutcome("upload", {
            "publish_id": publish_id,
            "upload_url": answer["upload_url"],
            "video_size": plan.video_size,
            "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count,
            "next_chunk": 0,
        })

    def _upload(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        plan = self._plan(data)
        start = index = int(data.get("next_chunk") or 0)
        sent = 0
        while index < plan.total_chunk_count:
            if sent >= self.settings.upload_bytes_per_step:
                return StepOutcome("upload", {"next_chunk": index})
            first, last = plan.byte_range(index)
            final = index == plan.total_chunk_count - 1
            try:
                status, text = self._put_chunk(job, str(data["upload_url"]), plan, first, last)
            except TransientError:
                if index > start and not final:
                    # Stalls are counted, not faults: chunks went through in this run, so the
                    # next delivery goes on from here with a fresh retry budget. (A lost answer
                    # on the last chunk is left to reconcile: the video may be complete.)
                    return StepOutcome("upload", {"next_chunk": index})
                raise
            # Any 2xx means the chunk arrived: TikTok documents 206 and 201, but the transfer
            # protocol allows any 2xx (and Postiz accepts any). A 2xx on the last chunk completes.
            # https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
            if 200 <= status < 300:
                if final:
                    log.info("tiktok.upload_complete", publish_id=data["publish_id"], chunks=plan.total_chunk_count,
                             status=status)
                    checks, wait = polling.first_check(self.settings.poll_first_seconds, self.settings.poll_seconds)
                    return StepOutcome("check_status", {"next_chunk": plan.total_chunk_count, **checks},
                                       wait_seconds=wait)
                index += 1
                sent += last - first + 1
                continue
            if status == 416:
                # Our offset is stale (a chunk went through but its answer was lost): ask TikTok.
                resumed = self._resync(job, data, plan)
                if resumed is None:
                    return StepOutcome("check_status", {"next_chunk": plan.total_chunk_count})
                if resumed == index:
                    raise errors.upload_error(status, text, now=job.now)
                index = resumed
                continue
            if status in (403, 404):
                return self._restart_after_expired_upload(job, data)
            # Before failing a target whose upload might have completed, ask TikTok (not after a
            # rate limit or an auth refusal: those say the chunk was not taken).
            if final and status not in (401, 429):
                try:
                    complete = self._resync(job, data, plan) is None
                except PlatformError as err:
                    # Could not ask: the video may be complete, so the outcome stays unknown.
                    raise outcome_unknown(self.key, self.display_name, detail=err.log_fields()) from err
                if complete:
                    return StepOutcome("check_status", {"next_chunk": plan.total_chunk_count},
                                       wait_seconds=self.settings.poll_seconds)
            raise errors.upload_error(status, text, now=job.now)
        return StepOutcome("check_status", {"next_chunk": index}, wait_seconds=self.settings.poll_seconds)

    def _check_status(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        publish_id = str(data["publish_id"])
        status = self._fetch_status(job, publish_id)
        state = status.get("status")
        if state in IN_PROGRESS:
            checks, wait = polling.next_check(data, self.settings.poll_first_seconds, self.settings.poll_seconds)
            return StepOutcome("check_status", checks, wait_seconds=wait)
        if state == "SEND_TO_USER_INBOX":
            return StepOutcome(None, {"status": state}, published=PublishedPost(publish_id, None))
        if state == "PUBLISH_COMPLETE":
            post_ids = status.get("publicaly_available_post_id") or []  # sic: TikTok's spelling
            username = data.get("username") or job.credentials.username
            if post_ids:
                post_id = str(post_ids[0])
                url = f"{self.settings.www_base.rstrip('/')}/@{username}/video/{post_id}" if username else None
                return StepOutcome(None, {"status": state}, published=PublishedPost(post_id, url))
            # The post id appears only after moderation, and never for private posts.
            since = datetime.fromisoformat(str(data.get("complete_since") or job.now.isoformat()))
            private = (data.get("post_info") or {}).get("privacy_level") == "SELF_ONLY"
            if private or data.get("inbox") or (job.now - since).total_seconds() >= self.settings.post_id_wait_seconds:
                return StepOutcome(None, {"status": state}, published=PublishedPost(publish_id, None))
            return StepOutcome("check_status", {"complete_since": since.isoformat()},
                               wait_seconds=max(self.settings.poll_seconds, 10.0))
        if state == "FAILED":
            error = errors.error_from_fail_reason(status.get("fail_reason"), status, now=job.now)
            restarts = int(data.get("restarts") or 0)
            if not isinstance(error, PermanentError) and restarts < MAX_RESTARTS:
                log.info("tiktok.restart_after_failure", publish_id=publish_id, reason=status.get("fail_reason"))
                return StepOutcome("creator_info", {**dict.fromkeys(PUBLISH_KEYS), "restarts": restarts + 1},
                                   wait_seconds=RESTART_WAIT_SECONDS)
            raise error
        raise errors.make_error("5xx", f"unknown_status_{state}", status, None, now=job.now)

    # ------------------------------------------------------------------ helpers

    def _upload_mode(self, job: PublishJob) -> str:
        mode = str(job.options.get("upload_mode") or self.settings.upload_mode)
        return mode if mode in ("FILE_UPLOAD", "PULL_FROM_URL") else "FILE_UPLOAD"

    @staticmethod
    def _plan(data: Mapping[str, Any]) -> ChunkPlan:
        return ChunkPlan(int(data["video_size"]), int(data["chunk_size"]), int(data["total_chunk_count"]))

    def _api(self, job: PublishJob, path: str, body: Any) -> dict[str, Any]:
        return self._post(job.credentials.access_token, path, body, now=job.now)

    def _post(self, access_token: str, path: str, body: Any, *, now: datetime) -> dict[str, Any]:
        """POST to TikTok's API; return `data`, or raise the classified error."""
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json; charset=UTF-8",
        }
        try:
            response = self.http.post(self.settings.api_base.rstrip("/") + path, headers=headers,
                                      json=body if body is not None else None)
        except httpx.HTTPError as exc:
            raise errors.network_error(exc) from exc
        try:
            payload = response.json()
        except ValueError:
            raise errors.error_from_response(response, now=now) from None
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code >= 400 or not isinstance(error, dict) or error.get("code") != "ok":
            raise errors.error_from_body(response.status_code, payload, now=now)
        return dict(payload.get("data") or {})

    def _fetch_status(self, job: PublishJob, publish_id: str) -> dict[str, Any]:
        return self._api(job, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    def _put_chunk(self, job: PublishJob, upload_url: str, plan: ChunkPlan, first: int, last: int) -> tuple[int, str]:
        content_type = job.video.content_type if job.video.content_type in UPLOAD_CONTENT_TYPES else "video/mp4"
        length = last - first + 1
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(length),
            "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
        }
        try:
            response = self.http.put(upload_url, headers=headers, content=_limited(job.video, first, length))
        except httpx.HTTPError as exc:
            raise errors.network_error(exc) from exc
        return response.status_code, response.text

    def _resync(self, job: PublishJob, data: Mapping[str, Any], plan: ChunkPlan) -> int | None:
        """The chunk to send next according to TikTok, or None when it has every byte."""
        status = self._fetch_status(job, str(data["publish_id"]))
        uploaded = int(status.get("uploaded_bytes") or 0)
        if status.get("status") != "PROCESSING_UPLOAD" or uploaded >= plan.video_size:
            return None
        return min(uploaded // plan.chunk_size, plan.total_chunk_count - 1)

    def _restart_after_expired_upload(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """upload_url expired (1 h). Re-init only if nothing of this publish can go live."""
        status = self._fetch_status(job, str(data["publish_id"]))
        if status.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
            return StepOutcome("check_status", {})
        uploaded = int(status.get("uploaded_bytes") or 0)
        if status.get("status") == "PROCESSING_UPLOAD" and uploaded >= int(data["video_size"]):
            return StepOutcome("check_status", {})
        log.info("tiktok.upload_url_expired", publish_id=data["publish_id"], uploaded_bytes=uploaded)
        return StepOutcome("init", dict.fromkeys(PUBLISH_KEYS))

