"""Blotato settings: where the API lives, the platform's API key, and the limits we assume."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BlotatoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BLOTATO_", env_file=None, extra="ignore", case_sensitive=False)

    # backend.blotato.com; the adapter appends /v2/... itself.
    api_base: str = "https://backend.blotato.com"
    # The platform's own key. A user who connects their own Blotato account brings their own key instead.
    api_key: SecretStr | None = None
    # Import the video into Blotato (POST /v2/media) before posting instead of handing over our URL.
    # The URL it returns is what finds a post again after a lost answer; without it such a post
    # can only be reported as "unknown" (never posted twice), so leave this on.
    upload_media_first: bool = True
    # Blotato suggests polling about every 2 s: the first check after `poll_first_seconds`,
    # then twice as late each time, at most `poll_seconds` apart.
    poll_first_seconds: float = Field(default=1.0, ge=0)
    poll_seconds: float = Field(default=2.0, ge=0)
    # Staging: minutes before its slot a scheduled post is handed to Blotato with scheduledTime = the
    # slot, so Blotato publishes it itself (0: start at the slot).
    stage_lead_minutes: float = Field(default=60.0, ge=0)
    # From the slot on, seconds between reads of a scheduled post until Blotato reports it published.
    publish_check_seconds: float = Field(default=2.0, gt=0)
    # Give up on a post that stays "in-progress" this long (Blotato answers in-progress for unknown ids too).
    max_processing_seconds: float = Field(default=3600.0, gt=0)
    # After a lost create-post answer: how long an absent post stays "unknown" before it is created
    # again. Blotato lists only finished posts, so we must wait until a lost attempt would have finished.
    reconcile_settle_seconds: float = Field(default=300.0, ge=0)
    # Rate limits (per Blotato user) from Blotato's docs.
    posts_per_minute: int = Field(default=30, ge=1)
    media_per_minute: int = Field(default=10, ge=1)
    status_per_minute: int = Field(default=60, ge=1)
    # Media limits. Blotato's docs give 200 MB, 1 GB or "your plan's limit"; its upload reference says 1 GB.
    max_video_bytes: int = Field(default=1024**3, gt=0)
    max_video_seconds: float = Field(default=600.0, gt=0)
    min_video_seconds: float = Field(default=1.0, ge=0)
    caption_max_utf16: int = Field(default=2200, gt=0)
