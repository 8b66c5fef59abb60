"""The real parts behind the pipeline's ports: database, Cloud Tasks, storage, connections, mail.

`build_runtime(app)` wires a `Runtime` from the application's parts (shared/app.py builds it
once per process as `application().runtime`). What the minute tick does is shared/scheduler.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.log import get_logger
from shared.platforms import adapter_class, adapters
from shared.publishing.runtime import Runtime

if TYPE_CHECKING:
    from shared.config import CoreSettings
    from shared.connections.access import AccountAccess
    from shared.db.database import Database
    from shared.storage.base import Storage
    from shared.tasks.client import TaskQueue

log = get_logger(__name__)


def worker_url(functions_base_url: str, platform: str) -> str:
    """Where the publish worker of a platform is deployed (one function per platform)."""
    return f"{functions_base_url.rstrip('/')}/publish-{platform}"


class Parts(Protocol):
    """What the pipeline is wired on: the application's parts (shared/app.py's `Application` has them).

    A protocol, not the `Application` itself: the composition root imports this module, never the reverse.
    """

    @property
    def settings(self) -> CoreSettings: ...
    @property
    def database(self) -> Database: ...
    @property
    def queue(self) -> TaskQueue: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def account_access(self) -> AccountAccess: ...


def build_runtime(app: Parts, **overrides: Any) -> Runtime:
    """The pipeline's ports on `app`'s database, queue and clock; `overrides` replace single ports (tests)."""
    # Imported here, not at the top: they pull in the platforms, media and connections, which
    # only functions that publish need (cold start of the others).
    from shared.analytics.best_time import resolve_best_times
    from shared.connections.refresh import credentials_for
    from shared.connections.store import mark_expired
    from shared.media.renditions import convert_for_target, media_for_target

    base_url = app.settings.functions_base_url
    parts: dict[str, Any] = {
        "db": app.database,
        "queue": app.queue,
        "clock": app.clock,
        "credentials": lambda db, connection_id, force, row=None: credentials_for(
            db, app.account_access, connection_id, force, row=row, now=app.clock()),
        "media": lambda target, video=None, renditions=None, say=None: media_for_target(
            target, db=app.database, storage=app.storage, video=video, renditions=renditions, say=say),
        "adapter_for": lambda key: adapter_class(key)(),
        "worker_url": lambda platform: worker_url(base_url, platform),
        "frontend_url": app.settings.frontend_url,
        "connection_expired": lambda conn, connection_id, reason: mark_expired(conn, connection_id, reason),
        "convert_for": lambda target: convert_for_target(target, db=app.database, storage=app.storage),
        "best_times": resolve_best_times,
    }
    parts.update(overrides)
    return Runtime(**parts)


__all__ = ["adapters", "build_runtime", "worker_url"]
