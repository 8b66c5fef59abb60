"""Echo publishes in one irreversible step, and finds a post again by our target id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shared.platforms.base import (
    MediaRules,
    PlatformAdapter,
    PlatformLimits,
    PublishedPost,
    PublishJob,
    Step,
    StepOutcome,
    TextRule,
)
from tests.pipeline.echo_platform import errors
from tests.pipeline.echo_platform.settings import EchoSettings


class EchoAdapter(PlatformAdapter):
    key = "echo"
    network = "echo"
    display_name = "Echo Clips"
    limits = PlatformLimits(
        caption=TextRule(max_length=500),
        media=MediaRules(min_duration_s=1, max_duration_s=600, max_size_bytes=1 << 30, min_aspect=0.5, max_aspect=1.0),
    )
    steps = {"post": Step("post", irreversible=True, phase="publishing")}
    first_step = "post"
    settings_class = EchoSettings
    settings: EchoSettings

    def _call(self, method: str, path: str, job: PublishJob, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, f"{self.settings.api_base}{path}", **kwargs,
                                         headers={"Authorization": f"Bearer {job.credentials.access_token}"})
        except httpx.HTTPError as exc:
            raise errors.error_from_response(httpx.Response(503, text=type(exc).__name__)) from None
        if response.status_code >= 400:
            raise errors.error_from_response(response)
        body: dict[str, Any] = response.json()
        return body

    def _post(self, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        body = self._call("POST", "/videos", job, json={"marker": job.target_id, "caption": job.full_caption,
                                                       "video_url": job.video.url})
        return self._done(body)

    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        found = self._call("GET", "/videos", job, params={"marker": job.target_id}).get("items") or []
        return self._done(found[0]) if found else None

    @staticmethod
    def _done(video: Mapping[str, Any]) -> StepOutcome:
        return StepOutcome(next_step=None, published=PublishedPost(str(video["id"]), str(video["url"])))
