"""YouTube Shorts: resumable upload, processing checks, optional custom thumbnail.

Steps (one per task delivery; `data` carries what the next one needs):
  start_upload      open an upload session; persist its URI before any byte is sent
  upload            stream the bytes, resuming through drops; the last byte creates the video
  check_processing  poll videos.list until YouTube processed (or failed/rejected) the video
  set_thumbnail     custom cover, when the job has one; failure is only a warning
  confirm_live      a staged (scheduled) video only: from its slot on, read that YouTube made it public
  delete_staged     after a cancel: delete the staged private video before YouTube publishes it
  update_staged     after an edit: move the staged video's publishAt and rewrite its title and
                    description (videos.update), then wait for the new slot

Staging: a scheduled public Short is uploaded YOUTUBE_STAGE_LEAD_MINUTES before its slot as a
private video with status.publishAt = the slot; YouTube publishes it itself at that time
(https://developers.google.com/youtube/v3/docs/videos#status.publishAt: settable only on a
private video never published; a time already past publishes it right away). The upload counts
against videos.insert on the day it happens, which is the staging day.

YouTube has no Shorts flag: a video of at most 3 minutes, square or vertical, is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

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
from shared.platforms.errors import PermanentError, PlatformError, TransientError
from shared.platforms.youtube import errors, metadata
from shared.platforms.youtube.oauth import EDIT_VIDEO_SCOPES
from shared.platforms.youtube.resumable import ResumableUpload, SessionGone, redacted
from shared.platforms.youtube.settings import YouTubeSettings

log = get_logger(__name__)

SHORTS_URL = "https://www.youtube.com/shorts/{id}"
# thumbnails.set costs 50 of the 10,000 units/day every method but videos.insert
# shares; it is not a QuotaRule because only targets with a cover spend it.
THUMBNAIL_UNITS = 50
ANALYTICS_METRICS = "views,likes,comments,shares,estimatedMinutesWatched,averageViewDuration"


def build_limits(settings: YouTubeSettings) -> PlatformLimits:
    return PlatformLimits(
        # The caption becomes the description: 5,000 bytes, no angle brackets.
        caption=TextRule(max_length=5000, unit="bytes", forbidden_chars="<>"),
        title=TextRule(max_length=metadata.TITLE_MAX_CHARS, forbidden_chars="<>", required=True),
        tags_total_chars=metadata.TAGS_MAX_CHARS,
        # The product's cover spec (FR-12) is YouTube's recommended 1280x720; thumbnails.set
        # takes JPEG or PNG up to 50 MB (since Sep 14 2026), Shorts included (since Nov 3 2026).
        cover=CoverSpec(width=1280, height=720, max_bytes=50 * 1024 * 1024),
        media=MediaRules(
            min_duration_s=1.0,
            max_duration_s=settings.shorts_max_seconds,  # longer is a regular video
            max_size_bytes=256 * 1024**3,
            min_aspect=0.0,
            max_aspect=1.0,              # square or vertical, else it is a regular video
            containers=("mp4", "mov", "webm"),
            video_codecs=("h264", "hevc", "vp9", "av1"),
            audio_codecs=("aac", "opus", "mp3"),
        ),
    )


def build_quotas(settings: YouTubeSettings) -> tuple[QuotaRule, ...]:
    # Each user's share of the project's videos.insert bucket comes first: a user over their
    # share is told so, and never takes a unit of the shared bucket.
    share = (QuotaRule(
        name="videos.insert.per_user",
        limit=min(settings.daily_uploads_per_user, settings.daily_uploads),
        scope="user",
        window="daily_pacific",
        user_message=f"You've published your share of YouTube uploads for today ({settings.daily_uploads_per_user} "
                     "a day; everyone on shortpub shares YouTube's daily limit). Your video will publish "
                     "automatically after midnight Pacific time.",
    ),) if settings.daily_uploads_per_user else ()
    return share + (
        QuotaRule(
            name="videos.insert",
            limit=settings.daily_uploads,
            scope="project",
            window="daily_pacific",
            user_message="YouTube's daily upload limit for our app is used up. Your video will publish "
                         "automatically after the limit resets at midnight Pacific time.",
        ),
        QuotaRule(
            name="channel_uploads",
            limit=settings.channel_daily_uploads,
            scope="account",
            window="daily_pacific",
            user_message="Your YouTube channel reached its daily upload limit. Your video will publish "
                         "automatically tomorrow.",
        ),
    )


class YouTubeAdapter(PlatformAdapter):
    key = "youtube"
    network = "youtube"
    display_name = "YouTube Shorts"
    limits = SettingsDerived(build_limits)
    quotas = SettingsDerived(build_quotas)

    @classmethod
    def sent_text(cls, job: PublishJob) -> dict[str, str]:
        snippet = metadata.video_resource(job)["snippet"]
        return {"title": snippet["title"], "description": snippet["description"]}
    steps: ClassVar[Mapping[str, Step]] = {
        # Opening a session creates nothing on the channel: safe to repeat.
        "start_upload": Step("start_upload", irreversible=False, phase="uploading"),
        # The last byte creates the video.
        "upload": Step("upload", irreversible=True, phase="uploading"),
        "check_processing": Step("check_processing", irreversible=False, phase="processing",
                                 may_be_live=True),
        # Setting the same image twice leaves the same result.
        "set_thumbnail": Step("set_thumbnail", irreversible=False, phase="publishing"),
        # Read-only: YouTube itself makes the staged video public at publishAt.
        "confirm_live": Step("confirm_live", irreversible=False, phase="publishing", may_be_live=True),
        # Deleting twice leaves the same result (the second answer is 404 videoNotFound).
        "delete_staged": Step("delete_staged", irreversible=False, phase="publishing"),
        # videos.update sets the same values again when repeated.
        "update_staged": Step("update_staged", irreversible=False, phase="publishing"),
    }
    first_step = "start_upload"
    slot_step = "confirm_live"
    unstage_step = "delete_staged"
    restage_step = "update_staged"
    # A connection made before we asked for youtube.force-ssl can upload but not delete or update a
    # video, so a staged private video could not follow a cancel or an edit: it starts at the slot.
    undo_scopes = EDIT_VIDEO_SCOPES
    settings_class = YouTubeSettings
    settings: YouTubeSettings

    # ------------------------------------------------------------------- interface

    def staged_object(self, data: Mapping[str, Any]) -> bool:
        return bool(data.get("publish_at") and data.get("video_id"))

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        if step != "upload":
            return None  # every other step is safe to run again
        session_uri = data.get("session_uri")
        if not session_uri:
            return None  # crashed before a session was persisted: a new one is safe
        uploader = self._uploader(job)
        try:
            progress = uploader.status(session_uri, int(data.get("upload_total") or job.video.size))
        except SessionGone:
            return None
        if isinstance(progress, int):
            return None  # incomplete: running `upload` again resumes from Google's offset
        return self._uploaded(job, progress)

    def fetch_metrics(self, credentials: Credentials, platform_post_id: str, *, now: datetime) -> PostMetrics:
        """Counts from the Data API; shares, watch time and average view duration from the
        YouTube Analytics API (scopes yt-analytics.readonly and youtube.readonly)."""
        item = self._video(credentials, platform_post_id, "statistics,snippet", now=now)
        if item is None:
            raise PermanentError(errors.RULES["videoNotFound"].user_message, platform=errors.PLATFORM,
                                 code="videoNotFound", detail=platform_post_id)
        stats = item.get("statistics", {})

        def number(name: str) -> int | None:
            return int(stats[name]) if stats.get(name) is not None else None

        published = str((item.get("snippet") or {}).get("publishedAt") or "")[:10]
        report = self._analytics(credentials, platform_post_id, published, now=now)
        minutes = report.get("estimatedMinutesWatched")
        return PostMetrics(views=number("viewCount"), likes=number("likeCount"),
                           comments=number("commentCount"), shares=report.get("shares"),
                           watch_time_seconds=minutes * 60.0 if minutes is not None else None,
                           raw={**stats, **{f"analytics.{k}": v for k, v in report.items()}})

    def _analytics(self, credentials: Credentials, video_id: str, published: str, *, now: datetime) -> dict[str, int]:
        """One video's lifetime row of reports.query; empty when the connection predates the
        Analytics scope (the Data API counts still stand).
        https://developers.google.com/youtube/analytics/reference/reports/query"""
        today = now.astimezone(UTC).date().isoformat()
        params = {"ids": "channel==MINE", "startDate": published or today, "endDate": today,
                  "metrics": ANALYTICS_METRICS, "dimensions": "video", "filters": f"video=={video_id}"}
        url = self.settings.analytics_base.rstrip("/") + "/v2/reports"
        try:
            response = self.http.get(url, params=params,
                                     headers={"Authorization": f"Bearer {credentials.access_token}"})
        except httpx.TransportError as exc:
            raise errors.network_error(exc) from exc
        if response.status_code in (401, 403) and b"insufficient" in response.content.lower():
            log.info("youtube analytics scope missing; reconnect to get shares and watch time")
            return {}
        if not response.is_success:
            raise errors.classify(response, now=now)
        table = response.json()
        names = [str(column.get("name")) for column in table.get("columnHeaders") or []]
        row = next((r for r in table.get("rows") or [] if r and str(r[0]) == video_id), None)
        if row is None:
            return {}
        return {name: int(value) for name, value in zip(names, row, strict=False)
                if name != "video" and isinstance(value, int | float)}

    # ----------------------------------------------------------------------- steps

    def _start_upload(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        total = job.video.size
        if total <= 0:
            raise errors.upload_failed({"uploadStatus": "failed", "failureReason": "emptyFile"})
        resource = metadata.video_resource(job)
        publish_at = _stage(resource, job)
        response = self._call(
            "POST",
            "/upload/youtube/v3/videos",
            job.credentials, now=job.now,
            params={
                "uploadType": "resumable",
                "part": "snippet,status",
                "notifySubscribers": str(metadata.notify_subscribers(job)).lower(),
            },
            headers={
                "X-Upload-Content-Length": str(total),
                "X-Upload-Content-Type": job.video.content_type or "video/*",
            },
            json=resource,
        )
        session_uri = response.headers.get("Location")
        if not session_uri:
            raise TransientError(errors.RETRYING, platform=errors.PLATFORM, code="noSessionUri",
                                 detail=dict(response.headers))
        log.info("youtube_upload_session", session=redacted(session_uri), total=total, staged_for=publish_at)
        return StepOutcome(next_step="upload", data={"session_uri": session_uri, "upload_total": total,
                                                     "publish_at": publish_at})

    def _upload(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        session_uri = data.get("session_uri")
        if not session_uri:
            return StepOutcome(next_step="start_upload")
        try:
            resource = self._uploader(job).upload(session_uri, job.video, int(data.get("upload_total")
                                                                              or job.video.size))
        except SessionGone:
            log.info("youtube_upload_session_gone", session=redacted(session_uri))
            return StepOutcome(next_step="start_upload", data={"session_uri": None})
        if isinstance(resource, int):
            # Out of time after progress: the next delivery goes on, with a fresh retry budget.
            return StepOutcome(next_step="upload", data={"uploaded_bytes": resource})
        return self._uploaded(job, resource)

    def _uploaded(self, job: PublishJob, resource: Mapping[str, Any]) -> StepOutcome:
        checks, wait = polling.first_check(self.settings.processing_poll_min_seconds,
                                           self.settings.processing_poll_max_seconds)
        return StepOutcome(
            next_step="check_processing",
            data={"video_id": resource["id"], "processing_since": job.now.isoformat(), **checks},
            wait_seconds=wait,
        )

    def _check_processing(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        item = self._video(job.credentials, video_id, "status,processingDetails", now=job.now)
        if item is None:
            raise PermanentError(errors.DELETED, platform=errors.PLATFORM, code="videoNotFound", detail=video_id)
        status = item.get("status", {})
        processing = item.get("processingDetails", {})
        upload_status = status.get("uploadStatus")
        if upload_status == "processed":
            if job.cover is not None:
                return StepOutcome(next_step="set_thumbnail")
            return self._done_or_wait(video_id, data)
        if upload_status != "uploaded" or processing.get("processingStatus") in ("failed", "terminated"):
            raise errors.upload_failed(status, processing)
        self._check_processing_timeout(job, video_id, data)
        # YouTube's own estimate when it gives one, else the processing curve.
        checks, wait = polling.next_check(data, self.settings.processing_poll_min_seconds,
                                          self.settings.processing_poll_max_seconds)
        time_left_ms = (processing.get("processingProgress") or {}).get("timeLeftMs")
        if time_left_ms:
            wait = min(max(float(time_left_ms) / 1000, self.settings.processing_poll_min_seconds),
                       self.settings.processing_poll_max_seconds)
        return StepOutcome(next_step="check_processing", data=checks, wait_seconds=wait)

    def _check_processing_timeout(self, job: PublishJob, video_id: str, data: Mapping[str, Any]) -> None:
        since = data.get("processing_since")
        if not since:
            return
        waited = (job.now - datetime.fromisoformat(since)).total_seconds()
        if waited > self.settings.processing_timeout_seconds:
            raise PermanentError(
                "YouTube is still processing the video after a long time. It is on your channel: check "
                "it in YouTube Studio before publishing it again.",
                platform=errors.PLATFORM, code="processingTimeout", detail={"video_id": video_id, "waited": waited},
            )

    def _set_thumbnail(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        cover = job.cover
        if cover is None:
            return self._done_or_wait(video_id, data)
        try:
            self._call(
                "POST",
                "/upload/youtube/v3/thumbnails/set",
                job.credentials, now=job.now,
                params={"videoId": video_id, "uploadType": "media"},
                headers={"Content-Type": cover.content_type, "Content-Length": str(cover.size)},
                content=cover.read_chunks(0, self.settings.upload_read_bytes),
            )
        except PlatformError as exc:
            # The video is live either way; a missing custom thumbnail is not worth failing it.
            log.warning("youtube_thumbnail_failed", **exc.log_fields())
            outcome = self._done_or_wait(video_id, data)
            outcome.data.update(thumbnail_warning=_thumbnail_warning(exc), thumbnail_error_code=exc.code)
            return outcome
        outcome = self._done_or_wait(video_id, data)
        outcome.data["thumbnail_set"] = True
        return outcome

    def _done_or_wait(self, video_id: str, data: Mapping[str, Any]) -> StepOutcome:
        """Processed: a staged video waits for its slot (the pipeline holds `confirm_live` until
        then); any other is live now."""
        if data.get("publish_at"):
            return StepOutcome(next_step="confirm_live", data={"video_id": video_id})
        return self._done(video_id)

    def _confirm_live(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        item = self._video(job.credentials, video_id, "status", now=job.now)
        if item is None:
            raise PermanentError(errors.DELETED, platform=errors.PLATFORM, code="videoNotFound", detail=video_id)
        status = item.get("status", {})
        if status.get("privacyStatus") == "public":
            return self._done(video_id)
        if status.get("privacyStatus") != "private" or not status.get("publishAt"):
            # Someone changed the video in YouTube Studio after we staged it: it will not go out.
            raise PermanentError(
                "The scheduled video was changed in YouTube Studio and will not go public by itself. "
                "Check it in YouTube Studio.", platform=errors.PLATFORM, code="scheduleRemoved",
                detail={"video_id": video_id, "status": status})
        return StepOutcome(next_step="confirm_live", wait_seconds=self.settings.publish_check_seconds)

    def _delete_staged(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """videos.delete (https://developers.google.com/youtube/v3/docs/videos/delete): 204, or 404
        when it is already gone, which is the same result."""
        video_id = data.get("video_id")
        if video_id:
            url = self.settings.api_base.rstrip("/") + "/youtube/v3/videos"
            try:
                response = self.http.delete(url, params={"id": video_id},
                                            headers={"Authorization": f"Bearer {job.credentials.access_token}"})
            except httpx.TransportError as exc:
                raise errors.network_error(exc) from exc
            if not response.is_success and response.status_code != 404:
                raise errors.classify(response, now=job.now)
        return StepOutcome(next_step=None, data={"unstaged": True})

    def _update_staged(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """An edit of a staged video: videos.update with the new snippet and status (50 units; the
        youtube.force-ssl scope we ask for covers it). It replaces every property of the parts it
        names, so the whole snippet and status are sent: publishAt = the new slot, or none (public
        now) for "publish now". publishAt can be set only on a private video never published.
        https://developers.google.com/youtube/v3/docs/videos/update
        https://developers.google.com/youtube/v3/docs/videos#status.publishAt"""
        video_id = str(data["video_id"])
        resource = metadata.video_resource(job)
        publish_at = _stage(resource, job)
        try:
            self._call("PUT", "/youtube/v3/videos", job.credentials, now=job.now, params={"part": "snippet,status"},
                       json={"id": video_id, **resource})
        except PermanentError:
            # Too late to move it (a reconnect that came after the old slot): YouTube already made it
            # public at its old time, so it is live, once.
            item = self._video(job.credentials, video_id, "status", now=job.now)
            if item is not None and item.get("status", {}).get("privacyStatus") == "public":
                log.warning("youtube_staged_video_live_before_update", video_id=video_id)
                return self._done(video_id)
            raise
        log.info("youtube_staged_video_updated", video_id=video_id, staged_for=publish_at)
        # confirm_live waits for the new slot, or (public now) reads at once that it is live.
        return StepOutcome(next_step="confirm_live", data={"video_id": video_id, "publish_at": publish_at})

    def _done(self, video_id: str) -> StepOutcome:
        url = SHORTS_URL.format(id=video_id)
        return StepOutcome(next_step=None, data={"video_id": video_id, "url": url},
                           published=PublishedPost(platform_post_id=video_id, url=url))

    # --------------------------------------------------------------------- helpers

    def _uploader(self, job: PublishJob) -> ResumableUpload:
        return ResumableUpload(self.http, self.settings, job.credentials.access_token, now=job.now)

    def _video(self, credentials: Credentials, video_id: str, part: str, *, now: datetime) -> dict[str, Any] | None:
        response = self._call("GET", "/youtube/v3/videos", credentials, now=now, params={"part": part, "id": video_id})
        items = response.json().get("items") or []
        return dict(items[0]) if items else None

    def _call(self, method: str, path: str, credentials: Credentials, *, now: datetime,
              headers: Mapping[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        url = self.settings.api_base.rstrip("/") + path
        all_headers = {"Authorization": f"Bearer {credentials.access_token}", **(headers or {})}
        try:
            response = self.http.request(method, url, headers=all_headers, **kwargs)
        except httpx.TransportError as exc:
            raise errors.network_error(exc) from exc
        if response.is_success:
            return response
        raise errors.classify(response, now=now)


def _stage(resource: dict[str, Any], job: PublishJob) -> str | None:
    """Make a scheduled public Short a private video YouTube publishes itself at its slot.

    Only public videos are staged: publishAt makes a video public, and an unlisted or private
    choice (or the user's own publish_at option) stays as asked. Returns the publishAt sent.
    """
    status = resource["status"]
    if job.slot is None or status.get("publishAt") or status.get("privacyStatus") != "public":
        return None
    publish_at = job.slot.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    status.update(privacyStatus="private", publishAt=publish_at)
    return publish_at


def _thumbnail_warning(exc: PlatformError) -> str:
    return (
        "Your Short is published, but YouTube did not take the custom thumbnail, so it shows an automatic "
        f"one. {exc.user_message}"
    )

