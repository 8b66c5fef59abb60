"""The composition root: every part the product runs on, built once per process.

    from shared.app import application
    app = application()           # the process's application, bootstrapped on first call
    with app.database.service() as conn: ...

`bootstrap(**parts)` builds an `Application`; a part handed in is used as given, every
other part is built from the settings the first time it is asked for, so a function that
never touches storage never pays for building (or importing) it. The one piece of
module-level state in the library is the process's application held here; tests and the
local stack build their own with `bootstrap(...)` and `install` it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from shared.captions.settings import CaptionSettings
    from shared.config import CoreSettings
    from shared.connections.access import AccountAccess
    from shared.connections.vault import TokenVault
    from shared.db.database import Database
    from shared.media.settings import MediaSettings
    from shared.publishing.runtime import Runtime
    from shared.storage.base import Storage
    from shared.storage.settings import StorageSettings
    from shared.tasks.client import TaskQueue
    from shared.tokens import AuthConfig

T = TypeVar("T")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


# Names a caller may hand to `bootstrap`; everything else is built from them.
PARTS = frozenset({
    "settings", "clock", "database", "storage_settings", "storage", "queue", "vault", "auth",
    "media_settings", "caption_settings", "runtime", "account_access",
})


class Application:
    """The parts of one process. Each property builds its part on first use, then keeps it.

    The builders import their modules when called (not at the top of this file): that
    keeps a function's cold start to what it uses, e.g. the health check never imports
    storage or the platforms.
    """

    def __init__(self, parts: dict[str, Any]) -> None:
        unknown = set(parts) - PARTS
        if unknown:
            raise TypeError(f"unknown application parts: {', '.join(sorted(unknown))}")
        self._given = dict(parts)
        self._parts = dict(parts)
        # Re-entrant: building the database asks for the settings.
        self._lock = threading.RLock()

    def replace(self, **parts: Any) -> Application:
        """A new application from the parts this one was given, with `parts` replaced or added.

        Parts this one built are not carried over: the new one builds them again from its own
        parts (a runtime on the new queue) and from the environment as it is now.
        """
        return Application({**self._given, **parts})

    def _part(self, name: str, build: Callable[[], T]) -> T:
        try:
            return self._parts[name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._lock:
            if name not in self._parts:
                self._parts[name] = build()
            return self._parts[name]  # type: ignore[no-any-return]

    @property
    def settings(self) -> CoreSettings:
        from shared.config import CoreSettings

        return self._part("settings", lambda: _read(CoreSettings))

    @property
    def clock(self) -> Clock:
        """The one clock: the worker, the tick and the services read the time from it."""
        return self._part("clock", lambda: utcnow)

    @property
    def database(self) -> Database:
        return self._part("database", self._build_database)

    @property
    def storage_settings(self) -> StorageSettings:
        from shared.storage.settings import StorageSettings

        return self._part("storage_settings", lambda: _read(StorageSettings))

    @property
    def storage(self) -> Storage:
        def build() -> Storage:
            from shared.storage import make_storage

            return make_storage(self.storage_settings, supabase_url=self.settings.supabase_url)

        return self._part("storage", build)

    @property
    def queue(self) -> TaskQueue:
        def build() -> TaskQueue:
            from shared.tasks.client import queue_from_settings
            from shared.tasks.settings import TasksSettings

            return queue_from_settings(_read(TasksSettings), self.settings.environment)

        return self._part("queue", build)

    @property
    def vault(self) -> TokenVault:
        def build() -> TokenVault:
            from shared.connections.vault import from_env

            return from_env()

        return self._part("vault", build)

    @property
    def account_access(self) -> AccountAccess:
        """The vault with each platform's connection provider, built once (with its HTTP client)."""
        def build() -> AccountAccess:
            from shared.connections.access import AccountAccess
            from shared.platforms import ConnectionProviders

            return AccountAccess(self.vault, ConnectionProviders())

        return self._part("account_access", build)

    @property
    def auth(self) -> AuthConfig:
        """How user tokens are verified (HS256 secret and/or the project's JWKS, whose keys it caches)."""
        def build() -> AuthConfig:
            from shared.tokens import config_from_settings

            return config_from_settings(self.settings)

        return self._part("auth", build)

    @property
    def media_settings(self) -> MediaSettings:
        from shared.media.settings import MediaSettings

        return self._part("media_settings", lambda: _read(MediaSettings))

    @property
    def caption_settings(self) -> CaptionSettings:
        from shared.captions.settings import CaptionSettings

        return self._part("caption_settings", lambda: _read(CaptionSettings))

    @property
    def runtime(self) -> Runtime:
        """The publishing pipeline's ports, wired to this application's parts."""
        def build() -> Runtime:
            from shared.wiring import build_runtime

            return build_runtime(self)

        return self._part("runtime", build)

    def _build_database(self) -> Database:
        from shared.db.database import Database
        from shared.db.local import admin_url

        settings = self.settings
        return Database(settings.database_url or admin_url(), min_size=settings.db_pool_min,
                        max_size=settings.db_pool_max)


def _read(settings_cls: type[T]) -> T:
    """`shared.config.load`, imported on the first read, not with this module: pydantic-settings
    (~30 ms) is no part of a function's import, which every cold start pays."""
    from shared.config import load

    return load(settings_cls)  # type: ignore[type-var, no-any-return]


def bootstrap(**parts: Any) -> Application:
    """An application from the given parts; the others are built from the environment on first use."""
    return Application(parts)


_application: Application | None = None
_application_lock = threading.Lock()


def application() -> Application:
    """The process's application, bootstrapped from the environment on the first call."""
    global _application
    if _application is None:
        with _application_lock:
            if _application is None:
                _application = bootstrap()
    return _application


def install(app: Application | None) -> Application | None:
    """Make `app` the process's application (None: bootstrap again on next use); returns the previous one."""
    global _application
    with _application_lock:
        previous, _application = _application, app
    return previous


@contextmanager
def installed(app: Application) -> Iterator[Application]:
    """`app` is the process's application inside the block; the previous one comes back after."""
    previous = install(app)
    try:
        yield app
    finally:
        install(previous)
