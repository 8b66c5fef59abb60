"""Video storage: one private bucket behind one interface (local disk or Supabase Storage).

    from shared.app import application
    files = application().storage   # built by make_storage from STORAGE_BACKEND=local|supabase
    stored = files.put("<user>/<video>/original.mp4", chunks, "video/mp4", max_bytes=...)
    source = files.media_source(stored.path)   # a MediaSource for PublishJob.video
"""

from __future__ import annotations

from shared.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    Storage,
    StorageError,
    StoredMedia,
    StoredObject,
)
from shared.storage.settings import StorageSettings

__all__ = [
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectTooLarge",
    "Storage",
    "StorageError",
    "StorageSettings",
    "StoredMedia",
    "StoredObject",
    "make_storage",
]


def make_storage(settings: StorageSettings, *, supabase_url: str | None) -> Storage:
    """The backend STORAGE_BACKEND names (the application builds it once, shared/app.py).

    `supabase_url` is the project's URL from the core settings, for the Supabase backend.
    """
    if settings.storage_backend == "supabase":
        from shared.config import ConfigError
        from shared.storage.supabase import SupabaseStorage

        url = settings.supabase_url or supabase_url
        if not url or not settings.supabase_service_role_key:
            raise ConfigError(
                "Invalid configuration: STORAGE_BACKEND=supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
            )
        return SupabaseStorage(
            url,
            settings.supabase_service_role_key,
            bucket=settings.storage_bucket,
            storage_url=settings.supabase_storage_url,
            default_ttl_seconds=settings.signed_url_ttl_seconds,
            tus_threshold_bytes=settings.supabase_tus_threshold_bytes,
        )
    from shared.storage.local import LocalStorage

    key = settings.local_storage_signing_key
    return LocalStorage(
        settings.local_storage_dir,
        bucket=settings.storage_bucket,
        signing_key=key.encode() if key else None,
        base_url=settings.local_storage_url,
        default_ttl_seconds=settings.signed_url_ttl_seconds,
        server_port=settings.local_storage_port,
    )
