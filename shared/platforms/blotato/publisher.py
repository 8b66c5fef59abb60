"""TikTok through Blotato: stage the video URL, create the post, poll it to the end.

Steps
  stage_media     read-only for us: fixes the exact media URL we will post (optionally
                  importing it with POST /v2/media, which only stores a copy and can be redone).
  create_post     irreversible: POST /v2/posts.
  check_status    read-only: GET /v2/posts/{postSubmissionId} until published or failed.
  confirm_create  read-only: after a lost create-post answer, look for our post in the list.
  confirm_live    read-only: a scheduled post, from its slot on, until Blotato published it.
  delete_staged   after a cancel: find our scheduled post in GET /v2/schedules and delete it.

Staging: a scheduled post is handed over BLOTATO_STAGE_LEAD_MINUTES before its slot with a root
`scheduledTime` = the slot (https://help.blotato.com/api-and-mcp-concepts/scheduling); Blotato
answers `scheduled` until then and publishes it itself. A scheduled post is managed by its
schedule id (`sch_...`, not the submission id): GET /v2/schedules lists the future ones,
DELETE /v2/schedules/{id} removes one (https://help.blotato.com/api/schedules.md).

How we find our post again (reconcile of create_post). Blotato keeps no field of
ours, so we rest only on what its docs make stable: the media URL that
`POST /v2/media` returned (a fresh Blotato-hosted object per import, which is why
`stage_media` imports by default), the account, the time window after our call and
the text. Blotato's docs do not promise that the list echoes a URL we host
ourselves: "Blotato handles the media transfer automatically" and may list its own
copy (https://help.blotato.com/api/publish-post,
https://help.blotato.com/api/publish-post/list-posts). So a list item with our text
in the window is ours when it carries our imported URL; when the evidence is
incomplete (we did not import, or the item lists other or no media) the answer is
"unknown: keep checking", never "not found: post again". Blotato's list shows only
finished posts (published, failed, scheduled), so "not listed" is only conclusive
after a lost attempt had time to finish (`reconcile_settle_seconds`); until then
the pipeline keeps the call marked as unknown and asks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from shared.log import get_logger
from shared.platforms import polling
from shared.platforms.base import (
    PlatformAdapter,
    PlatformLimits,
    PublishedPost,
    PublishJob,
    QuotaRule,
    SettingsDerived,
    Step,
    StepOutcome,
    TextRule,
)
from shared.platforms.blotato.errors import (
    PLATFORM,
    error_from_response,
    failed_post_error,
    network_error,
)
from shared.platforms.blotato.settings import BlotatoSettings
from shared.platforms.errors import AuthError, PermanentError, outcome_unknown
from shared.platforms.tiktok.publisher import cover_timestamp_ms, tiktok_media_rules

log = get_logger(__name__)

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
LIST_PAGE_SIZE = 250
LIST_MAX_PAGES = 8


def limits_from(settings: BlotatoSettings) -> PlatformLimits:
    tiktok = tiktok_media_rules(min_seconds=settings.min_video_seconds, max_seconds=settings.max_video_seconds,
                                max_bytes=settings.max_video_bytes)
    return PlatformLimits(
        caption=TextRule(max_length=settings.caption_max_utf16, unit="utf16"),
        # Blotato re-encodes anything but H.264/HEVC + AAC in MP4 itself, and only up to 120 s of
        # video (https://help.blotato.com/tips-and-tricks/social-platform-requirements). So we send
        # only in-spec files: anything else counts as fixable and is converted by us first (EC-2).
        media=replace(tiktok, containers=("mp4",), video_codecs=("h264", "hevc"), audio_codecs=("aac",)),
    )


def quotas_from(settings: BlotatoSettings) -> tuple[QuotaRule, ...]:
    # Blotato counts per Blotato user; with the platform's key that is the whole project. Each rate
    # is paced before the step that makes its call (shared/publishing/quota.py `pace`).
    # https://help.blotato.com/api/start (rate limits: 30 posts, 10 media uploads, 60 status reads a minute)
    return (
        QuotaRule("blotato_posts", settings.posts_per_minute, "project", "per_minute",
                  "Blotato's posting limit was reached for the moment. We'll publish automatically in a minute.",
                  steps=("create_post",)),
        QuotaRule("blotato_media", settings.media_per_minute, "project", "per_minute",
                  "Blotato's upload limit was reached for the moment. We'll continue automatically in a minute.",
                  steps=("stage_media",)),
        QuotaRule("blotato_status", settings.status_per_minute, "project", "per_minute",
                  "We're checking on your TikTok post a little more slowly to stay within Blotato's limits.",
                  steps=("check_status", "confirm_live")),
    )


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _called_at(job: PublishJob, data: Mapping[str, Any]) -> datetime:
    """When the create-post call whose answer was lost was made (the pipeline's mark), else staging."""
    if job.call_sent_at is not None:
        return job.call_sent_at
    raw = data.get("staged_at")
    if raw:
        try:
            return datetime.fromisoformat(str(raw))
        except ValueError:
            pass
    return job.now


class BlotatoAdapter(PlatformAdapter):
    key = "blotato"
    network = "tiktok"
    display_name = "TikTok (via Blotato)"
    limits = SettingsDerived(limits_from)
    quotas = SettingsDerived(quotas_from)
    steps: ClassVar[Mapping[str, Step]] = {
        "stage_media": Step("stage_media", irreversible=False, phase="uploading"),
        "create_post": Step("create_post", irreversible=True, phase="publishing"),
        "check_status": Step("check_status", irreversible=False, phase="processing", may_be_live=True),
        "confirm_create": Step("confirm_create", irreversible=False, phase="publishing", may_be_live=True),
        "confirm_live": Step("confirm_live", irreversible=False, phase="publishing", may_be_live=True),
        # Deleting a schedule that is already gone answers 404: the same result.
        "delete_staged": Step("delete_staged", irreversible=False, phase="publishing"),
    }
    first_step = "stage_media"
    slot_step = "confirm_live"
    unstage_step = "delete_staged"
    settings_class = BlotatoSettings
    settings: BlotatoSettings

    # ------------------------------------------------------------------ steps

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        if step != "create_post":
            return None  # the other steps create nothing on TikTok
        if data.get("post_submission_id"):
            # The answer was persisted, so the post exists; carry on polling it.
            return StepOutcome("check_status", {"post_submission_id": data["post_submission_id"]})
        verdict, found = self._find_post(job, data)
        if found is not None:
            if self._status_of(found) == "failed":
                # Ours, and it failed: not live. `confirm_create` reports why, as a normal step.
                return StepOutcome("confirm_create", {"confirm_until": job.now.isoformat()})
            return self._outcome_for_listed(job, found)
        settled = job.now >= _called_at(job, data) + timedelta(seconds=self.settings.reconcile_settle_seconds)
        if verdict == "absent" and settled:
            return None  # long enough for a lost attempt to be listed: it never happened
        # Something like our post is listed but the evidence is incomplete, or a lost attempt
        # may still be processing: keep asking, never post again on a guess.
        raise outcome_unknown(PLATFORM, "TikTok (via Blotato)", detail={"verdict": verdict})

    def _stage_media(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        upload_first = bool(job.options.get("upload_media_first", self.settings.upload_media_first))
        media_url = job.video.url
        if upload_first:
            # The URL Blotato returns is its own copy, unique to this import: the stable marker
            # that finds the post again after a lost answer.
            # https://help.blotato.com/api-reference/upload-media-v2-media
            response = self._call("POST", "/v2/media", job, json={"url": job.video.url})
            media_url = response.json()["url"]
        log.info("blotato.media_staged", imported=upload_first, size=job.video.size)
        return StepOutcome("create_post", {"media_url": media_url, "media_imported": upload_first,
                                           "staged_at": job.now.isoformat()})

    def _create_post(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        media_url = data.get("media_url") or job.video.url
        body: dict[str, Any] = {
            "post": {
                "accountId": job.credentials.account_id,
                "content": {"text": job.full_caption, "mediaUrls": [media_url], "platform": "tiktok"},
                "target": self._target(job),
            }
        }
        scheduled = {}
        if job.slot is not None:
            # At the root, beside `post` (https://help.blotato.com/api-and-mcp-concepts/scheduling).
            body["scheduledTime"] = scheduled["scheduled_for"] = _utc_iso(job.slot)
        response = self._call("POST", "/v2/posts", job, json=body)
        post_id = str(response.json()["postSubmissionId"])
        log.info("blotato.post_created", post_submission_id=post_id, **scheduled)
        checks, wait = polling.first_check(self.settings.poll_first_seconds, self.settings.poll_seconds)
        return StepOutcome(
            "check_status",
            {"post_submission_id": post_id, "submitted_at": job.now.isoformat(), **scheduled, **checks},
            # A scheduled post is confirmed from its slot on; until then there is nothing to poll.
            wait_seconds=0.0 if scheduled else wait,
        )

    def _check_status(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        post_id = str(data["post_submission_id"])
        body = self._call("GET", f"/v2/posts/{post_id}", job).json()
        status = body.get("status")
        if (final := _final_outcome(body, post_id)) is not None:
            return final
        if status == "scheduled" and data.get("scheduled_for"):
            return StepOutcome("confirm_live", {"status": status})   # held by the pipeline until the slot
        # "in-progress", or a state Blotato may add (scheduled): keep polling, within reason.
        since = datetime.fromisoformat(str(data.get("submitted_at") or job.now.isoformat()))
        if (job.now - since).total_seconds() > self.settings.max_processing_seconds:
            raise PermanentError(
                "TikTok (via Blotato) has not confirmed this post after a long wait. Check your TikTok "
                "profile: if the video is not there, publish again.",
                platform=PLATFORM, code="processing_timeout", detail=body,
            )
        checks, wait = polling.next_check(data, self.settings.poll_first_seconds, self.settings.poll_seconds)
        return StepOutcome("check_status", {"status": status, **checks}, wait_seconds=wait)

    def _confirm_live(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        post_id = str(data["post_submission_id"])
        body = self._call("GET", f"/v2/posts/{post_id}", job).json()
        status = body.get("status")
        if (final := _final_outcome(body, post_id)) is not None:
            return final
        return StepOutcome("confirm_live", {"status": status}, wait_seconds=self.settings.publish_check_seconds)

    def _delete_staged(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        schedule_id = self._find_schedule(job, data)
        if schedule_id is not None:
            try:
                self._call("DELETE", f"/v2/schedules/{schedule_id}", job)
            except PermanentError as err:
                if err.status != 404:
                    raise
        return StepOutcome(None, {"unstaged": True})

    def _find_schedule(self, job: PublishJob, data: Mapping[str, Any]) -> str | None:
        """Our scheduled post's schedule id: same account, text, media and time. None: not scheduled
        (any more)."""
        wanted = _parse(str(data.get("scheduled_for")))
        params: dict[str, Any] = {"limit": 50}
        for _ in range(LIST_MAX_PAGES):
            page = self._call("GET", "/v2/schedules", job, params=params).json()
            for item in page.get("items") or []:
                draft = item.get("draft") or {}
                content = draft.get("content") or {}
                if (str(draft.get("accountId")) == job.credentials.account_id
                        and content.get("text") == job.full_caption
                        and data.get("media_url") in (content.get("mediaUrls") or [])
                        and _parse(str(item.get("scheduledAt"))) == wanted):
                    return str(item["id"])
            if not page.get("cursor"):
                return None
            params["cursor"] = page["cursor"]
        return None

    def staged_object(self, data: Mapping[str, Any]) -> bool:
        return bool(data.get("scheduled_for") and data.get("post_submission_id"))

    def _confirm_create(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """Watch a post we found listed but not finished (scheduled), or report why it failed."""
        _, found = self._find_post(job, data)
        if found is not None:
            return self._outcome_for_listed(job, found)
        until = datetime.fromisoformat(str(data.get("confirm_until") or job.now.isoformat()))
        if job.now < until:
            return StepOutcome("confirm_create", {}, wait_seconds=self.settings.poll_seconds * 5)
        raise PermanentError(
            "TikTok (via Blotato) has not confirmed this post after a long wait. Check your TikTok "
            "profile: if the video is not there, publish again.",
            platform=PLATFORM, code="processing_timeout",
        )

    # ------------------------------------------------------------------ helpers

    def _target(self, job: PublishJob) -> dict[str, Any]:
        options = job.options
        privacy = str(options.get("privacy_level") or "PUBLIC_TO_EVERYONE")
        if privacy not in PRIVACY_LEVELS:
            raise PermanentError(
                "Choose who can view this TikTok video: everyone, friends, followers or only you.",
                platform=PLATFORM, code="privacy_level", detail={"privacy_level": privacy},
            )
        target: dict[str, Any] = {
            "targetType": "tiktok",
            "privacyLevel": privacy,
            "disabledComments": bool(options.get("disable_comment", False)),
            "disabledDuet": bool(options.get("disable_duet", False)),
            "disabledStitch": bool(options.get("disable_stitch", False)),
            "isBrandedContent": bool(options.get("brand_content_toggle", False)),
            "isYourBrand": bool(options.get("brand_organic_toggle", False)),
            # Our videos are AI-generated; TikTok requires the label for such content.
            "isAiGenerated": bool(options.get("is_aigc", True)),
        }
        if "auto_add_music" in options:
            target["autoAddMusic"] = bool(options["auto_add_music"])
        if "is_draft" in options:
            target["isDraft"] = bool(options["is_draft"])
        cover_ms = cover_timestamp_ms(options)
        if cover_ms is not None:
            target["videoCoverTimestamp"] = cover_ms
        return target

    def _api_key(self, job: PublishJob) -> str:
        if job.credentials.access_token:
            return job.credentials.access_token
        if self.settings.api_key is not None:
            return self.settings.api_key.get_secret_value()
        raise AuthError(
            "TikTok (via Blotato) is not set up: no Blotato API key is available. Reconnect TikTok (via Blotato).",
            platform=PLATFORM, code="no_api_key",
        )

    def _call(self, method: str, path: str, job: PublishJob, **kwargs: Any) -> httpx.Response:
        headers = {"blotato-api-key": self._api_key(job), "Accept": "application/json"}
        try:
            response = self.http.request(method, self.settings.api_base.rstrip("/") + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise network_error(exc) from exc
        if response.status_code >= 400:
            raise error_from_response(response, now=job.now)
        return response

    def _find_post(self, job: PublishJob, data: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """Look for our post in Blotato's list: ("found", item), ("unknown", None) or ("absent", None).

        "found": our text, in the window, on our account, with the URL `POST /v2/media` gave us.
        "unknown": an item with our text in the window whose media does not settle it.
        """
        media_url = data.get("media_url")
        if not media_url:
            return "absent", None  # create_post never ran with a staged URL
        imported = bool(data.get("media_imported"))
        text = job.full_caption
        params: dict[str, Any] = {
            # Nothing posted before our call can be ours (less clock skew).
            "since": (_called_at(job, data) - timedelta(minutes=2)).isoformat(),
            "platform": "tiktok",
            "limit": LIST_PAGE_SIZE,
        }
        verdict = "absent"
        for _ in range(LIST_MAX_PAGES):
            page = self._call("GET", "/v2/posts", job, params=params).json()
            for item in page.get("items", []):
                account = item.get("accountId")
                if account is not None and str(account) != job.credentials.account_id:
                    continue
                if item.get("text") != text:
                    continue
                listed = item.get("mediaUrls") or []
                if imported and media_url in listed:
                    return "found", dict(item)
                if imported and listed:
                    continue  # another import of Blotato's own: another post
                verdict = "unknown"
            if not page.get("cursor"):
                return verdict, None
            params["cursor"] = page["cursor"]
        return "unknown", None  # more pages than we read: not conclusive

    @staticmethod
    def _status_of(item: Mapping[str, Any]) -> str | None:
        state = item.get("state")
        return item.get("status") or (state.get("type") if isinstance(state, dict) else None)

    def _outcome_for_listed(self, job: PublishJob, item: Mapping[str, Any]) -> StepOutcome:
        post_id = str(item.get("postSubmissionId") or item["id"])
        status = self._status_of(item)
        if status == "failed":
            raise failed_post_error(item.get("errorMessage"), post_id)
        if status == "published":
            return StepOutcome(None, {"post_submission_id": post_id, "status": status},
                               published=PublishedPost(platform_post_id=post_id, url=item.get("publicUrl")))
        # Listed but not finished (scheduled). The list id is not a submission id, so keep
        # watching the list rather than polling GET /v2/posts/{id}.
        until = job.now + timedelta(seconds=self.settings.max_processing_seconds)
        return StepOutcome("confirm_create", {"confirm_until": until.isoformat()},
                           wait_seconds=self.settings.poll_seconds * 5)


def _final_outcome(body: Mapping[str, Any], post_id: str) -> StepOutcome | None:
    """The end of a post's road: published (with its link) or failed (raised); None while it is on the way."""
    if body.get("status") == "published":
        return StepOutcome(None, {"status": "published"},
                           published=PublishedPost(platform_post_id=post_id, url=body.get("publicUrl")))
    if body.get("status") == "failed":
        raise failed_post_error(body.get("errorMessage"), post_id)
    return None
