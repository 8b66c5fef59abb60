"""Instagram Reels through the Instagram API with Instagram Login (graph.instagram.com).

Steps, one per task delivery:

    check_account    read-only   professional account? (personal → EC-5 message)
    create_container irreversible POST /{ig-user}/media, Instagram pulls `video_url`
    check_container  read-only   poll status_code until FINISHED (ERROR 2207026 → EC-2)
    check_quota      read-only   content_publishing_limit, read at run time
    publish          irreversible POST /{ig-user}/media_publish — the one that can post twice
    fetch_result     read-only   permalink of the published media, when `publish` could not read
                                 it at once: the target is already `published` (Instagram
                                 confirmed it), the link is filled in later and never undoes that

A container never published is harmless (Instagram expires it after 24 h), so an
unknown container creation is simply redone.

Staging: Instagram has no scheduled publishing through this API, so a scheduled Reel's container
is created and processed INSTAGRAM_STAGE_LEAD_MINUTES (at most 23 h: containers live 24 h,
https://developers.facebook.com/docs/instagram-platform/content-publishing/) before its slot, and
the pipeline holds `check_quota` → `publish` until the slot: two calls at the slot. A cancel
leaves the unpublished container to expire: it is never shown to anyone. An unknown `media_publish` is
reconciled from the container's status and the account's recent media.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.log import get_logger
from shared.platforms import polling
from shared.platforms.base import (
    CoverSpec,
    Credentials,
    MediaRules,
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
from shared.platforms.errors import PermanentError, PlatformError, QuotaError, TransientError
from shared.platforms.instagram import errors
from shared.platforms.instagram.settings import InstagramSettings
from shared.platforms.meta import graph

log = get_logger(__name__)
_STATUS_SUBCODE = re.compile(r"(\d{7})")
# Options passed through to container creation as they are.
_PASS_THROUGH = ("cover_url", "thumb_offset", "audio_name")
# Reel insights (§3.8). plays/impressions/video_views were removed on Apr 21 2025.
INSIGHT_METRICS = ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions",
                   "ig_reels_avg_watch_time", "ig_reels_video_view_total_time")
# `cover_url` takes a JPEG up to 8 MB (§3.7); the product's cover size is 9:16 at 1080x1920 (FR-12).
COVER = CoverSpec(width=1080, height=1920, max_bytes=8 * 1024 * 1024, formats=("image/jpeg",))


def _limits(settings: InstagramSettings) -> PlatformLimits:
    return PlatformLimits(
        caption=TextRule(
            max_length=settings.caption_max_chars,
            max_hashtags=settings.caption_max_hashtags,
            max_mentions=settings.caption_max_mentions,
        ),
        media=MediaRules(
            min_duration_s=settings.min_duration_s,
            max_duration_s=settings.max_duration_s,
            max_size_bytes=settings.max_size_bytes,
            min_aspect=0.01,
            max_aspect=10.0,
            max_width=1920,
            max_bitrate_bps=25_000_000,
            requires_faststart=True,
        ),
        cover=COVER,
    )


def _quotas(settings: InstagramSettings) -> tuple[QuotaRule, ...]:
    return (
        QuotaRule(
            name="instagram_posts_24h",
            limit=settings.posts_per_24h,
            scope="account",
            window="rolling_24h",
            user_message="You've reached Instagram's limit of posts per 24 hours for this account.",
        ),
    )


class InstagramAdapter(graph.GraphCalls, PlatformAdapter):
    key = "instagram"
    network = "instagram"
    display_name = "Instagram Reels"
    limits = SettingsDerived(_limits)
    quotas = SettingsDerived(_quotas)
    steps = {
        "check_account": Step("check_account", irreversible=False, phase="uploading"),
        "create_container": Step("create_container", irreversible=True, phase="uploading"),
        "check_container": Step("check_container", irreversible=False, phase="processing"),
        "check_quota": Step("check_quota", irreversible=False, phase="publishing"),
        "publish": Step("publish", irreversible=True, phase="publishing"),
        "fetch_result": Step("fetch_result", irreversible=False, phase="publishing"),
    }
    first_step = "check_account"
    slot_step = "check_quota"
    # No unstage step: an IG Container can be neither updated nor deleted ("Updating/Deleting: This
    # operation is not supported",
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container).
    # A staged container of a canceled target is simply never published and expires after 24 hours
    # (status_code EXPIRED); an edited one is left the same way and a new one is staged.
    settings_class = InstagramSettings
    settings: InstagramSettings
    error_table = errors.TABLE

    @staticmethod
    def _ig_user(job: PublishJob, data: Mapping[str, Any]) -> str:
        return str(data.get("ig_user_id") or job.credentials.account_id)

    # ------------------------------------------------------------------ steps

    def _check_account(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        me = self._graph("GET", "me", job, params={"fields": "user_id,username,account_type"})
        if me.get("account_type") not in ("BUSINESS", "MEDIA_CREATOR", "CREATOR"):
            raise PermanentError(
                errors.PERSONAL_ACCOUNT, platform=self.key, code="personal_account",
                detail={"account_type": me.get("account_type")},
            )
        return StepOutcome("create_container", {"ig_user_id": str(me.get("user_id") or job.credentials.account_id)})

    def _container_params(self, job: PublishJob) -> dict[str, str]:
        options = job.options
        params = {
            "media_type": "REELS",
            "video_url": job.video.url,
            "caption": job.full_caption,
            "share_to_feed": "true" if options.get("share_to_feed", True) else "false",
        }
        for name in _PASS_THROUGH:
            if options.get(name) not in (None, ""):
                params[name] = str(options[name])
        if "thumb_offset" not in params and options.get("cover_offset_seconds") not in (None, ""):
            params["thumb_offset"] = str(round(float(options["cover_offset_seconds"]) * 1000))
        if job.cover is not None:
            # The cover the user uploaded, fitted to 1080x1920 JPEG, beats any other choice.
            params["cover_url"] = job.cover.url
        if "cover_url" in params:
            # Instagram ignores thumb_offset when cover_url is set; not sending it keeps that visible.
            params.pop("thumb_offset", None)
        # The AI info label, a container parameter since Jun 22 2026 (all versions, both logins):
        # https://developers.facebook.com/documentation/instagram-platform/changelog
        if "is_ai_generated" in options:
            params["is_ai_generated"] = "true" if options["is_ai_generated"] else "false"
        collaborators = [str(name).lstrip("@") for name in options.get("collaborators") or ()][:3]
        if collaborators:
            params["collaborators"] = json.dumps(collaborators)
        return params

    def _create_container(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        attempts = int(data.get("container_attempts") or 0) + 1
        created = self._graph("POST", f"{self._ig_user(job, data)}/media", job, data=self._container_params(job))
        checks, wait = polling.first_check(self.settings.poll_first_seconds, self.settings.poll_seconds)
        return StepOutcome(
            "check_container",
            {
                "container_id": str(created["id"]),
                "container_created_at": job.now.timestamp(),
                "container_attempts": attempts,
                **checks,
            },
            wait_seconds=wait,
        )

    def _container_status(self, job: PublishJob, container_id: str) -> dict[str, Any]:
        return self._graph("GET", container_id, job, params={"fields": "status_code,status"})

    def _check_container(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        container = self._container_status(job, str(data["container_id"]))
        status_code = container.get("status_code")
        if status_code == "FINISHED":
            return StepOutcome("check_quota")
        if status_code == "PUBLISHED":
            # Published by an earlier delivery whose answer was lost.
            return self._live(job, data, None)
        if status_code == "IN_PROGRESS":
            waited = job.now.timestamp() - float(data.get("container_created_at") or job.now.timestamp())
            if waited > self.settings.processing_timeout_seconds:
                raise PermanentError(errors.TOO_SLOW, platform=self.key, code="processing_timeout",
                                     detail=container)
            checks, wait = polling.next_check(data, self.settings.poll_first_seconds, self.settings.poll_seconds)
            return StepOutcome("check_container", checks, wait_seconds=wait)
        if status_code == "EXPIRED":
            return self._recreate(data, container, reason="expired")
        if status_code == "ERROR":
            found = _STATUS_SUBCODE.search(str(container.get("status") or ""))
            subcode = int(found.group(1)) if found else None
            if subcode in errors.RECREATE_CONTAINER_SUBCODES:
                return self._recreate(data, container, reason=str(subcode))
            if subcode is None:
                raise PermanentError(errors.PROCESSING_FAILED, platform=self.key, code="ERROR", detail=container)
            raise errors.TABLE.error_from(
                graph.GraphErrorBody(code=None, subcode=subcode, message=str(container.get("status"))), now=job.now
            )
        raise TransientError(errors.RETRYING, platform=self.key, code="unknown_status", detail=container)

    def _recreate(self, data: Mapping[str, Any], container: Mapping[str, Any], reason: str) -> StepOutcome:
        """Nothing was published from this container, so a fresh one is safe."""
        if int(data.get("container_attempts") or 1) >= self.settings.max_container_attempts:
            raise PermanentError(errors.PROCESSING_FAILED, platform=self.key, code=f"container_{reason}",
                                 detail=dict(container))
        return StepOutcome("create_container", {"container_id": None, "container_created_at": None},
                           wait_seconds=self.settings.poll_seconds)

    def _check_quota(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        ig_user = self._ig_user(job, data)
        since = int(job.now.timestamp()) - 86400
        answer = self._graph(
            "GET", f"{ig_user}/content_publishing_limit", job,
            params={"fields": "quota_usage,config", "since": str(since)},
        )
        entries = answer.get("data") or [{}]
        usage = int(entries[0].get("quota_usage") or 0)
        total = int((entries[0].get("config") or {}).get("quota_total") or self.settings.posts_per_24h)
        if usage >= total:
            raise QuotaError(
                errors.DAILY_LIMIT, platform=self.key, code="content_publishing_limit",
                detail={"quota_usage": usage, "quota_total": total},
                retry_at=self._quota_frees_at(job, ig_user, total),
            )
        return StepOutcome("publish")

    def _quota_frees_at(self, job: PublishJob, ig_user: str, total: int) -> datetime:
        """The rolling window frees up 24 h after the oldest post inside it."""
        now = job.now
        recent = self._recent_media(job, ig_user, limit=min(max(total, 1), 100))
        stamps = [t for t in (_timestamp(item) for item in recent) if t and t > now - timedelta(hours=24)]
        if not stamps:
            return now + timedelta(hours=1)
        return min(stamps) + timedelta(hours=24)

    def _publish(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        try:
            published = self._graph(
                "POST", f"{self._ig_user(job, data)}/media_publish", job,
                params={"creation_id": str(data["container_id"])},
            )
        except TransientError as err:
            if err.code in ("9007/2207027", "9007"):
                # Not ready yet: go back to polling; publishing again blindly is how posts double.
                return StepOutcome("check_container", wait_seconds=self.settings.poll_seconds)
            raise
        return self._live(job, data, str(published["id"]))

    def _live(self, job: PublishJob, data: Mapping[str, Any], media_id: str | None) -> StepOutcome:
        """Instagram confirmed the reel is live: published now, with its link if it can be read."""
        try:
            return self._fetch_result(job, {**data, "media_id": media_id})
        except PlatformError as err:
            # Never `failed` while live: the link look-up runs again later.
            log.info("instagram.link_later", **err.log_fields())
            return StepOutcome("fetch_result", {"media_id": media_id},
                               published=PublishedPost(platform_post_id=media_id, url=None),
                               wait_seconds=self.settings.poll_seconds)

    def _fetch_result(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        media_id = data.get("media_id")
        if not media_id:
            found = self._find_published(job, data)
            if found is None:
                raise TransientError(
                    "Instagram published the reel but has not listed it yet. We'll check again shortly.",
                    platform=self.key, code="media_not_listed",
                )
            media_id = found
        media = self._graph(
            "GET", str(media_id), job,
            params={"fields": "id,permalink,shortcode,media_type,media_product_type,timestamp"},
        )
        return StepOutcome(
            None, {"media_id": str(media_id)},
            published=PublishedPost(platform_post_id=str(media.get("id") or media_id), url=media.get("permalink")),
        )

    # ------------------------------------------------------------------ reconcile

    def _recent_media(self, job: PublishJob, ig_user: str, limit: int = 25) -> list[dict[str, Any]]:
        answer = self._graph(
            "GET", f"{ig_user}/media", job,
            params={"fields": "id,caption,permalink,timestamp", "limit": str(limit)},
        )
        return [item for item in answer.get("data") or [] if isinstance(item, dict)]

    def _find_published(self, job: PublishJob, data: Mapping[str, Any]) -> str | None:
        """Our reel among the account's recent media: same caption, posted after we asked."""
        not_before = _not_before(job, data)
        for item in self._recent_media(job, self._ig_user(job, data)):
            posted = _timestamp(item)
            if (item.get("caption") or "") != job.full_caption:
                continue
            if not_before is not None and posted is not None and posted < not_before:
                continue
            return str(item["id"])
        return None

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        if step == "create_container":
            # A container whose id we never got is never published and expires in 24 h.
            return None
        if step == "publish":
            container_id = data.get("container_id")
            if not container_id:
                return None
            status = self._container_status(job, str(container_id)).get("status_code")
            if status != "PUBLISHED":
                return None  # FINISHED (or expired/failed): media_publish did not take effect
            # Took effect: published now; the media id comes from the account's recent media.
            try:
                media_id = self._find_published(job, data)
            except PlatformError as err:
                log.info("instagram.media_id_later", **err.log_fields())
                media_id = None
            return self._live(job, data, media_id)
        raise ValueError(f"instagram step {step!r} is not irreversible")

    # ------------------------------------------------------------------ metrics

    def fetch_metrics(self, credentials: Credentials, platform_post_id: str, *, now: datetime) -> PostMetrics:
        try:
            answer = graph.call(
                self.http, errors.TABLE, "GET", self.settings.graph_url(f"{platform_post_id}/insights"),
                gate=self.usage_gate, account=credentials.account_id, now=now,
                token=credentials.access_token, params={"metric": ",".join(INSIGHT_METRICS)},
            )
        except PlatformError as exc:
            if _not_enough_viewers(exc):
                # Instagram hides insights of reels with a tiny audience: nothing to report yet.
                return PostMetrics(raw={"not_enough_viewers": True})
            raise
        values: dict[str, Any] = {}
        for entry in answer.get("data") or []:
            points = (entry.get("values") or [{}]) if isinstance(entry, Mapping) else [{}]
            if isinstance(entry, Mapping) and isinstance(points[0], Mapping):
                values[str(entry.get("name"))] = points[0].get("value")

        def count(name: str) -> int | None:
            value = values.get(name)
            return int(value) if isinstance(value, int | float) else None

        total_ms = count("ig_reels_video_view_total_time")
        return PostMetrics(
            views=count("views"), likes=count("likes"), comments=count("comments"), shares=count("shares"),
            saves=count("saved"), watch_time_seconds=total_ms / 1000 if total_ms is not None else None,
            raw=values,
        )


def _not_enough_viewers(exc: PlatformError) -> bool:
    """Error 10 on insights means "Not enough viewers", unless it is the missing permission."""
    message = str(exc.detail.get("message") or "") if isinstance(exc.detail, Mapping) else ""
    return exc.code == "10" and "not enough viewers" in message.lower()


def _not_before(job: PublishJob, data: Mapping[str, Any]) -> datetime | None:
    """Media older than our publish call (less clock skew) cannot be ours."""
    if job.call_sent_at is not None:
        return job.call_sent_at - timedelta(minutes=2)
    created = data.get("container_created_at")
    return datetime.fromtimestamp(float(created), UTC) - timedelta(minutes=2) if created else None


def _timestamp(item: Mapping[str, Any]) -> datetime | None:
    raw = item.get("timestamp")
    if not raw:
        return None
    try:
        # Graph writes "2026-11-23T10:00:00+0000".
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            return datetime.fromisoformat(str(raw))
        except ValueError:
            return None
