"""Facebook Reels settings (Pages, Reels API)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.platforms.meta import graph


class FacebookSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FACEBOOK_", env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    graph_base: str = "https://graph.facebook.com"
    rupload_base: str = "https://rupload.facebook.com"
    # www.facebook.com: the login dialog (OAuth) and the links shown to users.
    www_base: str = "https://www.facebook.com"
    # Pinned Graph version, shared with Instagram (META_GRAPH_VERSION).
    graph_version: str = Field(default="v26.0", validation_alias="META_GRAPH_VERSION")
    app_id: str | None = None
    app_secret: str | None = None

    # Limits (platform-apis.md §4.3); override when Meta changes them.
    min_duration_s: float = 3.0
    max_duration_s: float = 90.0
    min_width: int = 540
    min_height: int = 960
    max_size_bytes: int = 1024 * 1024 * 1024
    reels_per_24h: int = 30

    # Status checks while Facebook processes a reel: the first after this many seconds, each next
    # one twice as late, at most `poll_seconds` apart (shared/platforms/polling.py). A short reel
    # is usually ready within seconds; long ones take up to a minute or two.
    poll_first_seconds: float = Field(default=1.0, ge=0)
    # Staging: minutes before its slot a scheduled Reel is uploaded and finished as SCHEDULED with
    # scheduled_publish_time = the slot, so Facebook publishes it itself (0: start at the slot).
    stage_lead_minutes: float = Field(default=60.0, ge=0)
    # From the slot on, how often we look whether Facebook published the scheduled Reel.
    publish_check_seconds: float = Field(default=2.0, gt=0)

    poll_seconds: float = Field(default=10.0, ge=0)
    # A reel still processing after this long is given up on.
    processing_timeout_seconds: float = Field(default=1800.0, gt=0)
    # Resumes in a row within one upload step that move nothing (Facebook reports no new bytes
    # after a drop); a resume after progress never counts.
    upload_resumes: int = Field(default=3, ge=0)
    # An upload step's time budget; after progress the next task delivery continues.
    upload_step_seconds: float = Field(default=600.0, gt=0)
    # Reel metrics asked of /{video-id}/video_insights, changeable without a deploy. Meta's Reels
    # metrics: https://developers.facebook.com/docs/video-api/guides/reels-publishing (insights) and
    # https://developers.facebook.com/docs/graph-api/reference/video/video_insights
    insights_metrics: str = (
        "blue_reels_play_count,fb_reels_total_plays,fb_reels_replay_count,post_video_avg_time_watched,"
        "post_video_view_time,post_video_likes_by_reaction_type,post_video_social_actions"
    )

    @field_validator("insights_metrics")
    @classmethod
    def _without_deprecated(cls, value: str) -> str:
        """Meta fails the whole insights call when one metric is deprecated (post_impressions*,
        https://developers.facebook.com/docs/graph-api/reference/insights), so an old setting
        that still names one must not break metrics."""
        kept = [m.strip() for m in value.split(",") if m.strip() and not m.strip().startswith("post_impressions")]
        return ",".join(kept)

    def graph_url(self, path: str) -> str:
        return graph.graph_url(self.graph_base, self.graph_version, path)

    def upload_url(self, video_id: str) -> str:
        return f"{self.rupload_base.rstrip('/')}/video-upload/{self.graph_version}/{video_id}"
