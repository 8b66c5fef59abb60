"""Instagram Reels settings (Instagram API with Instagram Login)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.platforms.meta import graph


class InstagramSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INSTAGRAM_", env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    # graph.instagram.com: publishing, long-lived tokens and the profile.
    graph_base: str = "https://graph.instagram.com"
    # api.instagram.com: the OAuth code exchange.
    api_base: str = "https://api.instagram.com"
    # www.instagram.com: the OAuth consent page.
    www_base: str = "https://www.instagram.com"
    # Pinned Graph version, shared with Facebook (META_GRAPH_VERSION).
    graph_version: str = Field(default="v26.0", validation_alias="META_GRAPH_VERSION")
    app_id: str | None = None
    app_secret: str | None = None

    # Limits (platform-apis.md §3.7); override when Meta changes them.
    caption_max_chars: int = 2200
    caption_max_hashtags: int = 30
    caption_max_mentions: int = 20
    min_duration_s: float = 3.0
    max_duration_s: float = 900.0
    # CONFLICT in Meta's docs (300 MB vs 1 GB): target the lower one.
    max_size_bytes: int = 300 * 1024 * 1024
    # Scheduling-time budget per account, and the limit assumed when content_publishing_limit
    # sends no `config`. Meta's pages conflict (100 in the publishing guide, 50 in the
    # media_publish reference); the lower one is safe. The real limit is read at publish time.
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
    posts_per_24h: int = 50

    # Container polling: Meta suggests about once a minute; short reels finish sooner, so the
    # first check comes after `poll_first_seconds`, each next one twice as late, at most
    # `poll_seconds` apart (shared/platforms/polling.py).
    poll_first_seconds: float = Field(default=1.0, ge=0)
    poll_seconds: float = Field(default=15.0, ge=0)
    # Staging: minutes before its slot a scheduled Reel's container is created and processed; only
    # media_publish waits for the slot. At most 23 h: an unpublished container expires after 24 h.
    stage_lead_minutes: float = Field(default=60.0, ge=0, le=23 * 60)
    # A container still IN_PROGRESS after this long is given up on.
    processing_timeout_seconds: float = Field(default=1800.0, gt=0)
    # How many times an expired or failed container is recreated before giving up.
    max_container_attempts: int = Field(default=3, ge=1)

    def graph_url(self, path: str) -> str:
        return graph.graph_url(self.graph_base, self.graph_version, path)
