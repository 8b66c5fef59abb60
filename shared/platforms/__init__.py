"""Platforms: one package per platform, each described by a `Platform`, all listed in `registry.py`.

`adapters()` and `providers()` answer from the registry. They import it on first call:
importing `shared.platforms.errors` (as most of shortpub does) must not load every
platform package and its HTTP stack at cold start.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.platforms.base import PlatformAdapter
    from shared.platforms.oauth import Provider
    from shared.platforms.options import PlatformOptions
    from shared.platforms.profiles import CoverFrame, EncodeProfile, FeedCutoff


def adapters() -> dict[str, type[PlatformAdapter]]:
    """Every registered platform's publisher class by key."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return {platform.key: platform.adapter for platform in registry()}


def adapter_class(key: str) -> type[PlatformAdapter]:
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return registry()[key].adapter


def options_model(key: str) -> type[PlatformOptions]:
    """The typed publish options of platform `key`, as its descriptor names them."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return registry()[key].options


def providers() -> dict[str, type[Provider]]:
    """Every registered platform's connection provider class by key."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return {platform.key: platform.provider for platform in registry()}


def provider(key: str) -> Provider:
    """A provider for platform `key`, with its settings read now."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    found = registry().get(key)
    if found is None:
        raise KeyError(f"no connection provider for platform {key!r}")
    return found.provider()


class ConnectionProviders:
    """Each platform's connection provider, built on first use and then kept with its HTTP client.

    One set per application (shared/app.py `account_access`): a sign-in, a refresh or a revoke does
    not build a provider and its HTTP client again (about 20 ms each, mostly the TLS context).
    """

    def __init__(self) -> None:
        self._built: dict[str, Provider] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str) -> Provider:
        found = self._built.get(key)
        if found is None:
            with self._lock:
                found = self._built.get(key)
                if found is None:
                    found = self._built[key] = provider(key)
        return found


def feed_cutoff(key: str) -> FeedCutoff:
    """Where platform `key`'s feed hides a caption behind "more" (its package's feed.py)."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return registry()[key].feed_cutoff


def encode_profile(key: str) -> EncodeProfile:
    """The encode of a converted copy for platform `key` (its package's media_profile.py)."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return registry()[key].encode_profile


def cover_frame(key: str) -> CoverFrame:
    """How a chosen cover frame reaches platform `key` (its package's media_profile.py)."""
    from shared.platforms.registry import registry  # cold start: see the module docstring

    return registry()[key].cover_frame
