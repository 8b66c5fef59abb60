"""A module imported by the first request that uses it, not at a function's cold start.

    if TYPE_CHECKING:
        from shared.connections import service
    else:
        service = lazy_module("shared.connections.service")

The type checker sees the real module; at run time `service` is a stand-in whose first
attribute lookup imports the module (later lookups find it in `sys.modules`), so a
function instance pays at start only for what every request needs, and each route's
first request pays for its own service.

Not `importlib.util.LazyLoader`: on Python 3.11 (the deployed runtime) a module it loads
can be read half-executed by a second thread while a first one loads it
(https://github.com/python/cpython/issues/114763, fixed in 3.13), and a cold instance
takes concurrent requests. `importlib.import_module` holds the module's import lock.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any


class _ImportedOnFirstUse(ModuleType):
    def __getattr__(self, attr: str) -> Any:
        # Called only for names the stand-in lacks, i.e. every name of the real module.
        return getattr(importlib.import_module(self.__name__), attr)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r}, imported on first use>"


def lazy_module(name: str) -> ModuleType:
    """`name`, imported when one of its attributes is first read; a misspelt name still fails here, at import."""
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _ImportedOnFirstUse(name)
