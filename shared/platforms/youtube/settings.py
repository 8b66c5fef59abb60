"""YouTube settings: where Google's APIs live, our OAuth client, and our budgets.

Base URLs default to the real Google hosts; the local stack points them at the
platform sandbox (shared/local/sandbox_env.py).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A channel's own daily upload cap (error uploadLimitExceeded) is real but Google publishes no
# number (https://developers.google.com/youtube/v3/docs/errors, videos.insert). We assume 15 a
# day: low enough that our scheduling refuses before YouTube does. The sandbox enforces this
# same figure, so adapter and sandbox cannot drift apart; change it with YOUTUBE_CHANNEL_DAILY_UPLOADS.
CHANNEL_DAILY_UPLOADS_ASSUMED = 15

# The resumable protocol requires every chunk but the last to be a multiple of this.
UPLOAD_CHUNK_GRANULARITY = 256 * 1024


class YouTubeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="YOUTUBE_", env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    # www.googleapis.com serves the Data API, the upload endpoints and the channel lookup at connect time.
    api_base: str = "https://www.googleapis.com"
    analytics_base: str = "https://youtubeanalytics.googleapis.com"

    # One Google Cloud OAuth client serves every Google product we use, hence GOOGLE_* names.
    client_id: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_ID")
    client_secret: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_SECRET")
    # accounts.google.com: the consent page.
    auth_base: str = Field(default="https://accounts.google.com", validation_alias="GOOGLE_AUTH_BASE")
    # oauth2.googleapis.com: token exchange, refresh and revoke.
    token_base: str = Field(default="https://oauth2.googleapis.com", validation_alias="GOOGLE_OAUTH_BASE")

    # Bytes per upload request. 0 (default) streams the whole rest of the file in one
    # request, as Google recommends: each extra request stalls the pipe for a round
    # trip (8 MiB chunks measured ~30% slower on loopback, see BENCHMARKS.md).
    # Chunking (a multiple of 256 KiB) helps behind proxies that cap request bodies.
    upload_chunk_bytes: int = Field(default=0, ge=0)
    # How much is read from the video source at a time; bounds memory use.
    upload_read_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    # Attempts in a row that move nothing (a drop or 5xx after which Google confirms no new
    # bytes) before an upload step gives up; an attempt that made progress never counts.
    upload_retry_attempts: int = Field(default=6, ge=1)
    # An upload step's time budget; after progress the next task delivery continues.
    upload_step_seconds: float = Field(default=600.0, gt=0)
    upload_retry_wait_initial: float = Field(default=1.0, ge=0)
    upload_retry_wait_max: float = Field(default=30.0, ge=0)

    # videos.insert has its own bucket: 100 calls/day per project (since Jun 1 2026).
    # https://developers.google.com/youtube/v3/revision_history (Jun 1 2026), determine_quota_cost
    daily_uploads: int = Field(default=100, ge=0)
    # Each user's share of that project bucket per Pacific day (0: no per-user share), so one
    # heavy scheduler cannot take a whole day's uploads from everyone else.
    daily_uploads_per_user: int = Field(default=10, ge=0)
    # Every other method shares this many units/day; thumbnails.set costs 50.
    daily_units: int = Field(default=10_000, ge=0)
    # The channel's own upload cap: see CHANNEL_DAILY_UPLOADS_ASSUMED.
    channel_daily_uploads: int = Field(default=CHANNEL_DAILY_UPLOADS_ASSUMED, ge=0)

    # YouTube classifies square/vertical videos up to this long as Shorts (3 min since Oct 2024).
    shorts_max_seconds: float = Field(default=180.0, gt=0)

    # Processing checks: the first after the min, each next one twice as late (or YouTube's own
    # timeLeftMs estimate), at most the max apart; and when to give up waiting.
    processing_poll_min_seconds: float = Field(default=1.0, ge=0)
    processing_poll_max_seconds: float = Field(default=60.0, ge=0)
    processing_timeout_seconds: float = Field(default=3 * 3600, gt=0)

    # Staging: a scheduled Short is uploaded this long before its slot as a private video with
    # status.publishAt = the slot, and YouTube makes it public itself (0: start at the slot).
    stage_lead_minutes: float = Field(default=60.0, ge=0)
    # From the slot on, how often we look whether YouTube made the staged video public.
    publish_check_seconds: float = Field(default=2.0, gt=0)

    @field_validator("upload_chunk_bytes")
    @classmethod
    def _chunks_on_granularity(cls, value: int) -> int:
        if value % UPLOAD_CHUNK_GRANULARITY:
            raise ValueError(f"must be a multiple of {UPLOAD_CHUNK_GRANULARITY} (256 KiB), or 0")
        return value
