"""Every platform shortpub publishes to, one line each. Adding a platform adds its line here.

The list is explicit (no folder scan, no import side effects): what is registered is
what this file says, and a broken platform package fails loudly at import.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from shared.platforms import blotato, facebook, instagram, tiktok, youtube
from shared.platforms.platform import Platform

# The order is the order the publish request (and its OpenAPI document) lists them in.
PLATFORMS: tuple[Platform, ...] = (
    tiktok.PLATFORM,
    instagram.PLATFORM,
    youtube.PLATFORM,
    facebook.PLATFORM,
    blotato.PLATFORM,
)


T = TypeVar("T")


class Registry:
    """The registered platforms by key."""

    def __init__(self, platforms: tuple[Platform, ...]) -> None:
        for platform in platforms:
            platform.check()
        self._by_key = {platform.key: platform for platform in platforms}
        self._derived: dict[Hashable, Any] = {}
        if len(self._by_key) != len(platforms):
            raise ValueError("two platforms share a key")

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def keys(self) -> list[str]:
        return list(self._by_key)

    def get(self, key: str) -> Platform | None:
        return self._by_key.get(key)

    def __getitem__(self, key: str) -> Platform:
        found = self._by_key.get(key)
        if found is None:
            raise KeyError(f"unknown platform {key!r}")
        return found

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """What generic code builds from registered platforms (the publish request's target models), built once.

        `key` names what is built and from which platforms (a platform, or `tuple(registry)`), so a
        platform registered later gets its own entry instead of a stale one.
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]  # type: ignore[no-any-return]

    def add(self, platform: Platform) -> None:
        """For tests (`including`): a platform registered for a while."""
        platform.check()
        if platform.key in self._by_key:
            raise ValueError(f"platform {platform.key!r} is already registered")
        self._by_key[platform.key] = platform

    def remove(self, key: str) -> None:
        del self._by_key[key]


# A constant: built from the explicit list above, reading nothing from the environment. Each
# platform's settings (and the limits and quotas derived from them) are read lazily by the
# process's application (shared/app.py), not here.
_REGISTRY = Registry(PLATFORMS)


def registry() -> Registry:
    return _REGISTRY


@contextmanager
def including(platform: Platform) -> Iterator[Registry]:
    """For tests: `platform` is registered inside the block, as if it had its line above."""
    _REGISTRY.add(platform)
    try:
        yield _REGISTRY
    finally:
        _REGISTRY.remove(platform.key)
