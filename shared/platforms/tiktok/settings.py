"""TikTok Content Posting API settings: hosts, app credentials, upload mode and limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024



class TikTokSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIKTOK_", env_file=None, extra="ignore", case_sensitive=False)

    # open.tiktokapis.com; the adapter appends /v2/... itself.
    api_base: str = "https://open.tiktokapis.com"
    # www.tiktok.com: OAuth authorize page, and the public video URLs we build.
    www_base: str = "https://www.tiktok.com"
    client_key: str | None = None
    client_secret: SecretStr | None = None
    # FILE_UPLOAD (we push the bytes; the safe default) or PULL_FROM_URL (TikTok fetches our signed URL;
    # only for a domain or URL prefix verified in the TikTok developer portal).
    upload_mode: Literal["FILE_UPLOAD", "PULL_FROM_URL"] = "FILE_UPLOAD"
    # Chunk size for FILE_UPLOAD; TikTok allows 5-64 MB.
    chunk_bytes: int = Field(default=10 * MB, ge=5 * MB, le=64 * MB)
    # How many bytes one upload step sends before handing over to the next task delivery.
    upload_bytes_per_step: int = Field(default=256 * MB, ge=5 * MB)
    # Whether TikTok has audited this app. Until it has, TikTok accepts only SELF_ONLY posts from
    # private accounts, from at most 5 users per 24 h (content-sharing guidelines).
    app_audited: bool = True
    # Audience when the user chose none. SELF_ONLY is the only level an unaudited app may use.
    default_privacy_level: str = "SELF_ONLY"
    # Status polling: TikTok suggests every 5-10 s within 30 requests/min per token. The first
    # check after `poll_first_seconds`, each next one twice as late, at most `poll_seconds` apart
    # (1, 2, 4, 5, 5 s: 9 checks in the first 30 s, well within the per-token rate).
    poll_first_seconds: float = Field(default=1.0, ge=0)
    poll_seconds: float = Field(default=5.0, ge=0)
    # Public posts get their post id only after moderation; wait this long for it before finishing without one.
    post_id_wait_seconds: float = Field(default=600.0, ge=0)
    # Per-token rate limits from TikTok's docs.
    init_per_minute: int = Field(default=6, ge=1)
    status_per_minute: int = Field(default=30, ge=1)
    creator_info_per_minute: int = Field(default=20, ge=1)
    # TikTok's daily per-creator API post cap is unpublished; integrators report 15-25.
    daily_posts_per_creator: int = Field(default=15, ge=1)
    # Media limits (TikTok: up to 4 GB, 10 min via the API, 23-60 fps, 360-4096 px).
    max_video_bytes: int = Field(default=4 * 1024 * MB, gt=0)
    max_video_seconds: float = Field(default=600.0, gt=0)
    min_video_seconds: float = Field(default=1.0, ge=0)
    caption_max_utf16: int = Field(default=2200, gt=0)
    # A scheduled post is converted for TikTok and checked (token, creator_info) this long before its
    # slot; its upload starts at the slot (TikTok's API cannot schedule). 0: everything at the slot.
    stage_lead_minutes: float = Field(default=60.0, ge=0)
