"""Facebook Reels on a Page through the Reels API (never `/{page}/videos`, which leaves drafts).

Steps, one per task delivery:

    start         irreversible POST /{page}/video_reels upload_phase=start → video id
    upload        resumable    bytes streamed to rupload.facebook.com, from the offset
                               Facebook reports (`uploading_phase.bytes_transfered`)
    finish        irreversible POST /{page}/video_reels upload_phase=finish, PUBLISHED
    schedule      irreversible the same finish with video_state=SCHEDULED and
                               scheduled_publish_time = the slot (a staged scheduled Reel)
    check_status  read-only    until publishing_phase.publish_status == published
    fetch_link    read-only    the Reel's permalink, when it could not be read at once: the
                               target is already `published` (Facebook confirmed it), the
                               link is filled in later and never undoes that
    confirm_live  read-only    a scheduled Reel, from its slot on: Facebook published it
    delete_staged              after a cancel: delete the scheduled Reel (again: already gone)

Staging: a scheduled Reel is uploaded FACEBOOK_STAGE_LEAD_MINUTES before its slot and finished
as SCHEDULED for the slot; Facebook publishes it itself. Facebook takes a scheduled time only
10 minutes to 29 days ahead (https://developers.facebook.com/docs/video-api/guides/reels-publishing/,
scheduled_publish_time), so a slot nearer than that when the upload is done waits: `finish`
(PUBLISHED) is held until the slot.

`upload` always asks Facebook how many bytes it already has before sending, so a
repeat only sends what is missing: it is safe to run again and needs no
reconcile. An upload session that is never finished is harmless (nothing is
shown on the Page), so an unknown `start` is simply redone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from shared.log import get_logger
from shared.platforms import polling
from shared.platforms.base import (
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
from shared.platforms.errors import FormatRefused, PermanentError, PlatformError, TransientError
from shared.platforms.facebook import errors
from shared.platforms.facebook.settings import FacebookSettings
from shared.platforms.meta import graph

log = get_logger(__name__)
_UPLOAD_CHUNK = 4 * 1024 * 1024
# Facebook's window for scheduled_publish_time (Reels Publishing API; platform-apis.md).
SCHEDULE_MIN_AHEAD_S = 600
SCHEDULE_MAX_AHEAD_S = 29 * 86400
# How Facebook words a processing error about the file itself (e.g. "...in a format we don't support").
FORMAT_REFUSAL = re.compile(r"format|codec|encod", re.I)


def _limits(settings: FacebookSettings) -> PlatformLimits:
    return PlatformLimits(
        # Facebook documents no caption limit for Reels; Page posts allow 63,206 characters.
        caption=TextRule(max_length=63206),
        title=TextRule(max_length=255),
        media=MediaRules(
            min_duration_s=settings.min_duration_s,
            max_duration_s=settings.max_duration_s,
            max_size_bytes=settings.max_size_bytes,
            min_aspect=0.5625,
            max_aspect=0.5625,
            min_width=settings.min_width,
            min_height=settings.min_height,
            video_codecs=("h264", "hevc", "vp9", "av1"),
            min_fps=24.0,
        ),
    )


def _quotas(settings: FacebookSettings) -> tuple[QuotaRule, ...]:
    return (
        QuotaRule(
            name="facebook_reels_24h",
            limit=settings.reels_per_24h,
            scope="account",
            window="rolling_24h",
            user_message=f"This Page has reached Facebook's limit of {settings.reels_per_24h} Reels per 24 hours.",
        ),
    )


class FacebookAdapter(graph.GraphCalls, PlatformAdapter):
    key = "facebook"
    network = "facebook"
    display_name = "Facebook Reels"
    limits = SettingsDerived(_limits)

    @classmethod
    def sent_text(cls, job: PublishJob) -> dict[str, str]:
        # The fields of the finish call (_finish): the description, and a title only when set.
        sent = {"description": job.full_caption}
        if job.title:
            sent["title"] = job.title
        return sent
    quotas = SettingsDerived(_quotas)
    steps = {
        "start": Step("start", irreversible=True, phase="uploading"),
        "upload": Step("upload", irreversible=False, phase="uploading"),
        "finish": Step("finish", irreversible=True, phase="publishing"),
        "check_status": Step("check_status", irreversible=False, phase="processing", may_be_live=True),
        "fetch_link": Step("fetch_link", irreversible=False, phase="publishing"),
        "schedule": Step("schedule", irreversible=True, phase="processing"),
        "confirm_live": Step("confirm_live", irreversible=False, phase="publishing", may_be_live=True),
        # Deleting twice leaves the same result: the second answer says the Reel does not exist.
        "delete_staged": Step("delete_staged", irreversible=False, phase="publishing"),
    }
    first_step = "start"
    slot_step = "confirm_live"
    unstage_step = "delete_staged"
    settings_class = FacebookSettings
    settings: FacebookSettings
    error_table = errors.TABLE

    # ------------------------------------------------------------------ steps

    def _start(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        started = self._graph(
            "POST", f"{job.credentials.account_id}/video_reels", job, data={"upload_phase": "start"}
        )
        return StepOutcome("upload", {"video_id": str(started["video_id"])})

    def _status(self, job: PublishJob, video_id: str) -> dict[str, Any]:
        answer = self._graph("GET", video_id, job, params={"fields": "status"})
        status = answer.get("status")
        return status if isinstance(status, dict) else {}

    def _received(self, job: PublishJob, video_id: str) -> int:
        phase = self._status(job, video_id).get("uploading_phase") or {}
        return int(phase.get("bytes_transfered") or 0)

    def _upload(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        if job.options.get("pull_from_url"):
            self._send(job, video_id, headers={"file_url": job.video.url}, content=None)
            return StepOutcome(self._after_upload(job), {"uploaded_bytes": job.video.size})
        # Stalls are counted, not faults: a dropped send after which Facebook reports more
        # bytes costs nothing. The step is bounded by time; after progress the next task
        # delivery continues from Facebook's offset with a fresh budget.
        deadline = time.monotonic() + self.settings.upload_step_seconds
        stalls = 0
        problem: TransientError | None = None
        start: int | None = None
        offset: int | None = None
        sent_from: int | None = None
        while True:
            try:
                # Read-only: a failure here is retried like any read.
                offset = self._received(job, video_id)
            except TransientError as failed:
                problem, offset = failed, None
            if offset is not None:
                if offset >= job.video.size:
                    return StepOutcome(self._after_upload(job), {"uploaded_bytes": offset})
                start = offset if start is None else start
                if sent_from is not None and offset > sent_from:
                    stalls, sent_from = 0, None   # the dropped send moved forward: not a stall
            else:
                stalls += 1
            # The time bound stops retrying, never a send that is streaming.
            if stalls > self.settings.upload_resumes or (problem is not None and time.monotonic() >= deadline):
                if offset is not None and start is not None and offset > start:
                    return StepOutcome("upload", {"uploaded_bytes": offset})
                assert problem is not None
                raise problem
            if offset is None:
                continue
            sent_from = offset
            try:
                self._send(
                    job, video_id,
                    headers={"offset": str(offset), "file_size": str(job.video.size),
                             "Content-Length": str(job.video.size - offset),
                             "Content-Type": "application/octet-stream"},
                    content=_stream(job, offset),
                )
                return StepOutcome(self._after_upload(job), {"uploaded_bytes": job.video.size})
            except TransientError as failed:
                # A dropped connection or a wrong offset: ask Facebook where to resume.
                problem = failed
                stalls += 1

    def _send(self, job: PublishJob, video_id: str, *, headers: dict[str, str],
              content: Iterator[bytes] | None) -> None:
        try:
            response = self.http.post(
                self.settings.upload_url(video_id),
                headers={"Authorization": f"OAuth {job.credentials.access_token}", **headers},
                content=content,
            )
        except httpx.TransportError as exc:
            raise errors.TABLE.network_error(exc) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        problem = errors.upload_error(body, response.status_code)
        if problem is not None:
            raise problem
        if response.status_code >= 400:
            raise errors.TABLE.from_response(response, job.now)
        if not (isinstance(body, dict) and body.get("success")):
            raise TransientError(errors.RETRYING, platform=self.key, code="upload_not_confirmed",
                                 detail=str(body)[:300], status=response.status_code)

    def _after_upload(self, job: PublishJob) -> str:
        """Schedule on Facebook when the slot is far enough ahead for it; else finish (held until the
        slot when staged)."""
        return "schedule" if self._schedulable(job) else "finish"

    def _schedulable(self, job: PublishJob) -> bool:
        if job.slot is None:
            return False
        ahead = (job.slot - job.now).total_seconds()
        # A margin over Facebook's 10 minutes, for the time the finish call itself takes.
        return SCHEDULE_MIN_AHEAD_S + 60 <= ahead <= SCHEDULE_MAX_AHEAD_S

    def _schedule(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        if not self._schedulable(job):
            return StepOutcome("finish")
        assert job.slot is not None
        slot = int(job.slot.timestamp())
        outcome = self._finish(job, data, {"video_state": "SCHEDULED", "scheduled_publish_time": str(slot)})
        return StepOutcome("check_status", {**outcome.data, "scheduled_for": slot}, outcome.wait_seconds)

    def _finish(self, job: PublishJob, data: Mapping[str, Any], state: Mapping[str, str] | None = None
                ) -> StepOutcome:
        fields = {
            "upload_phase": "finish",
            "video_id": str(data["video_id"]),
            "video_state": "PUBLISHED",
            "description": job.full_caption,
            **(state or {}),
        }
        if job.title:
            fields["title"] = job.title
        answer = self._graph("POST", f"{job.credentials.account_id}/video_reels", job, data=fields)
        if not answer.get("success"):
            raise TransientError(errors.RETRYING, platform=self.key, code="finish_not_confirmed", detail=answer)
        checks, wait = polling.first_check(self.settings.poll_first_seconds, self.settings.poll_seconds)
        return StepOutcome("check_status", {"finished_at": job.now.timestamp(), **checks}, wait_seconds=wait)

    def _check_status(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        status = self._status(job, video_id)
        processing = status.get("processing_phase") or {}
        publishing = status.get("publishing_phase") or {}
        if (
            processing.get("status") == "error"
            or status.get("video_status") in ("error", "upload_failed")
            or publishing.get("publish_status") == "error"
        ):
            problem = str((processing.get("error") or {}).get("message") or "")
            if FORMAT_REFUSAL.search(problem):
                # Facebook could not read the file: converted once and retried (EC-2).
                raise FormatRefused(errors.FORMAT_REFUSED, platform=self.key, code="unsupported_format",
                                    detail=status)
            raise PermanentError(errors.PROCESSING_FAILED, platform=self.key, code="processing_error",
                                 detail=status)
        if status.get("video_status") == "expired":
            raise PermanentError(errors.UPLOAD_FAILED, platform=self.key, code="expired", detail=status)
        if publishing.get("publish_status") == "scheduled" and processing.get("status") == "complete" \
                and data.get("scheduled_for"):
            return StepOutcome("confirm_live")  # held by the pipeline until the slot
        if publishing.get("publish_status") == "published":
            try:
                return self._fetch_link(job, data)
            except PlatformError as err:
                # Live on the Page: published now, the link follows (never `failed` while live).
                log.info("facebook.permalink_later", **err.log_fields())
                return StepOutcome("fetch_link", published=PublishedPost(video_id, None),
                                   wait_seconds=self.settings.poll_seconds)
        waited = job.now.timestamp() - float(data.get("finished_at") or job.now.timestamp())
        if waited > self.settings.processing_timeout_seconds:
            raise PermanentError(errors.TOO_SLOW, platform=self.key, code="processing_timeout", detail=status)
        checks, wait = polling.next_check(data, self.settings.poll_first_seconds, self.settings.poll_seconds)
        return StepOutcome("check_status", checks, wait_seconds=wait)

    def _fetch_link(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        video_id = str(data["video_id"])
        video = self._graph("GET", video_id, job, params={"fields": "permalink_url"})
        url = _absolute(video.get("permalink_url"))
        if url is None:
            raise TransientError(errors.RETRYING, platform=self.key, code="no_permalink", detail=video)
        return StepOutcome(None, published=PublishedPost(video_id, url))

    def _confirm_live(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        status = self._status(job, str(data["video_id"]))
        if (status.get("publishing_phase") or {}).get("publish_status") == "published":
            return self._check_status(job, data)
        return StepOutcome("confirm_live", wait_seconds=self.settings.publish_check_seconds)

    def _delete_staged(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """Delete the scheduled Reel (https://developers.facebook.com/docs/graph-api/reference/video/#deleting).
        A Reel already gone answers "does not exist": the same result."""
        try:
            self._graph("DELETE", str(data["video_id"]), job)
        except PermanentError as err:
            if "does not exist" not in str(err.detail or ""):
                raise
        return StepOutcome(None, {"unstaged": True})

    def staged_object(self, data: Mapping[str, Any]) -> bool:
        return bool(data.get("scheduled_for") and data.get("video_id"))

    def holds_for_slot(self, step: str) -> bool:
        # A slot too near to schedule on Facebook: the upload is done ahead, PUBLISHED at the slot.
        return step in ("confirm_live", "finish")

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        if step == "start":
            return None  # an upload session never finished shows nothing on the Page
        if step in ("finish", "schedule"):
            video_id = data.get("video_id")
            if not video_id:
                return None
            publishing = self._status(job, str(video_id)).get("publishing_phase") or {}
            if publishing.get("publish_status") in ("published", "scheduled") or publishing.get("status") in (
                "in_progress", "complete"
            ):
                scheduled = {"scheduled_for": int(job.slot.timestamp())} if step == "schedule" and job.slot else {}
                return StepOutcome("check_status", {"finished_at": job.now.timestamp(), **scheduled})
            return None
        raise ValueError(f"facebook step {step!r} is not irreversible")

    # ------------------------------------------------------------------ metrics

    def fetch_metrics(self, credentials: Credentials, platform_post_id: str, *, now: datetime) -> PostMetrics:
        """Lifetime Reel insights: plays (not replays) are views, reactions are likes."""
        answer = graph.call(
            self.http, errors.TABLE, "GET", self.settings.graph_url(f"{platform_post_id}/video_insights"),
            gate=self.usage_gate, account=credentials.account_id, now=now,
                token=credentials.access_token, params={"metric": self.settings.insights_metrics},
        )
        values: dict[str, Any] = {}
        for entry in answer.get("data") or []:
            points = (entry.get("values") or [{}]) if isinstance(entry, Mapping) else [{}]
            if isinstance(entry, Mapping) and isinstance(points[0], Mapping):
                values[str(entry.get("name"))] = points[0].get("value")
        actions = values.get("post_video_social_actions")
        actions = actions if isinstance(actions, Mapping) else {}
        reactions = values.get("post_video_likes_by_reaction_type")
        view_time_ms = _number(values.get("post_video_view_time"))
        return PostMetrics(
            views=_number(values.get("blue_reels_play_count")),
            likes=sum(_number(v) or 0 for v in reactions.values()) if isinstance(reactions, Mapping) else None,
            comments=_number(actions.get("COMMENT")) if actions else None,
            shares=_number(actions.get("SHARE")) if actions else None,
            watch_time_seconds=view_time_ms / 1000 if view_time_ms is not None else None,
            raw=values,
        )


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _stream(job: PublishJob, offset: int) -> Iterator[bytes]:
    yield from job.video.read_chunks(offset, _UPLOAD_CHUNK)


def _absolute(permalink: Any) -> str | None:
    """Graph gives Page video permalinks as paths ("/reel/123/")."""
    if not permalink:
        return None
    text = str(permalink)
    return f"https://www.facebook.com{text}" if text.startswith("/") else text
