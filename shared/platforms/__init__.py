"""Platform adapters. Every package in this folder is a platform and registers itself."""

from __future__ import annotations

import importlib
import pkgutil

from shared.platforms.base import PlatformAdapter

_loaded = False


def adapters() -> dict[str, type[PlatformAdapter]]:
    """All platform adapters by key, importing every platform package once."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            if module.ispkg:
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return dict(PlatformAdapter.registry)


def adapter_class(key: str) -> type[PlatformAdapter]:
    found = adapters().get(key)
    if found is None:
        raise KeyError(f"unknown platform {key!r}")
    return found
