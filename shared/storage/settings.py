"""Storage settings: which backend, the bucket, size limits, signed URL lifetime, retention."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024 * 1024 * 1024


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    storage_backend: Literal["local", "supabase"] = "local"
    storage_bucket: str = "videos"
    # Largest video a user may upload or import (bytes).
    max_video_bytes: int = Field(default=GIB, ge=1)
    # Largest body POST /videos takes: Cloud Run refuses HTTP/1 requests over 32 MiB
    # (https://cloud.google.com/run/quotas); bigger files go to the bucket and /videos/register.
    max_upload_request_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    # How long a signed URL stays valid; platforms fetch within this window.
    signed_url_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    # Days after a video's last scheduled publish before it is deleted.
    video_retention_days: int = Field(default=7, ge=0)
    # Days after its upload (or last failed/canceled post) before a never-published video is removed.
    unpublished_video_days: int = Field(default=30, ge=1)
    # Days before that removal its owner is mailed; the removal waits at least this long after the mail.
    video_removal_notice_days: int = Field(default=3, ge=0)
    # Total stored bytes above which the storage alert fires.
    storage_alert_bytes: int = Field(default=80 * 1000**3, ge=1)

    # Local backend: files on disk, HMAC-signed URLs served by shared/storage/local_server.py.
    local_storage_dir: str = ".local/storage"
    # Base URL the local file server is reachable at; unset starts one in-process on first use.
    local_storage_url: str | None = None
    local_storage_port: int = Field(default=0, ge=0)
    # HMAC key for local signed URLs; unset uses a random key kept in LOCAL_STORAGE_DIR.
    local_storage_signing_key: str | None = None

    # Supabase backend.
    supabase_url: str | None = None
    supabase_service_role_key: str | None = None
    # Direct storage host (https://<ref>.storage.supabase.co) for TUS uploads; defaults to SUPABASE_URL.
    supabase_storage_url: str | None = None
    # Uploads above this size go through resumable TUS uploads in 6 MiB parts (values above 6 MiB count as
    # 6 MiB: a single-request upload is held in memory).
    supabase_tus_threshold_bytes: int = Field(default=6 * 1024 * 1024, ge=1)

