"""Video storage: one private bucket behind one interface (local disk or Supabase Storage).

    from shared.storage import storage
    stored = storage().put("<user>/<video>/original.mp4", chunks, "video/mp4", max_bytes=...)
    source = storage().media_source(stored.path)   # a MediaSource for PublishJob.video
"""

from __future__ import annotations

import threading

from shared.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    Storage,
    StorageError,
    StoredMedia,
    StoredObject,
)
from shared.storage.settings import StorageSettings, storage_settings

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
    "set_storage",
    "storage",
    "storage_settings",
]

_storage: Storage | None = None
_lock = threading.Lock()


def make_storage(settings: StorageSettings) -> Storage:
    if settings.storage_backend == "supabase":
        from shared.config import ConfigError, core
        from shared.storage.supabase import SupabaseStorage

        url = settings.supabase_url or core().supabase_url
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


def storage() -> Storage:
    """The configured backend (STORAGE_BACKEND=local|supabase), created once per process."""
    global _storage
    if _storage is None:
        with _lock:
            if _storage is None:
                _storage = make_storage(storage_settings())
    return _storage


def set_storage(backend: Storage | None) -> None:
    """Use another backend (tests, the local stack)."""
    global _storage
    _storage = backend
