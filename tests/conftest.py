"""Shared fixtures: a fresh real PostgreSQL database per test session.

Without DATABASE_URL the embedded PostgreSQL in .local/ is started. Each pytest
process (or xdist worker) gets its own database, migrated from scratch, and drops
it at the end. Tests isolate by creating their own users (random ids), so no
truncation is needed between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.app import Application, application, bootstrap, install, installed
from shared.db import Database, migrate
from shared.db import local as localdb

# Settings are read lazily, so this still applies to everything the tests import.
os.environ.setdefault("ENVIRONMENT", "test")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin = localdb.admin_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"shortpub_test_{worker}_{os.getpid()}"
    url = localdb.create_database(admin, name)
    migrate.apply(url, local=True)
    yield url
    localdb.drop_database(admin, name)


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, min_size=1, max_size=8)
    # The process's application for tests that build none of their own (`make_app`).
    with installed(bootstrap(database=database)):
        yield database
    database.close()


class AppMaker:
    """Builds the application a test runs on and makes it the process's one until the test ends."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._previous: list[Application | None] = []

    def __call__(self, **parts: Any) -> Application:
        """An application from the current environment and `parts` (the test database unless given)."""
        if "database" not in parts and "db" in self._request.fixturenames:
            parts["database"] = self._request.getfixturevalue("db")
        return self.install(bootstrap(**parts))

    def replace(self, **parts: Any) -> Application:
        """The installed application with `parts` replaced (e.g. settings read again after a setenv)."""
        return self.install(application().replace(**parts))

    def install(self, app: Application) -> Application:
        self._previous.append(install(app))
        return app

    def restore(self) -> None:
        if self._previous:
            install(self._previous[0])
            self._previous.clear()


@pytest.fixture
def make_app(request: pytest.FixtureRequest) -> Iterator[AppMaker]:
    """`make_app(**parts)`: the application for this test, read from the environment as the test set it."""
    maker = AppMaker(request)
    yield maker
    maker.restore()


def make_user(db: Database, email: str | None = None) -> dict[str, str]:
    user_id = str(uuid.uuid4())
    email = email or f"{user_id[:8]}@example.test"
    with db.service() as conn:
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, email))
    return {"sub": user_id, "email": email, "role": "authenticated", "aud": "authenticated"}


@pytest.fixture
def user_a(db: Database) -> dict[str, str]:
    return make_user(db)


@pytest.fixture
def user_b(db: Database) -> dict[str, str]:
    return make_user(db)


# --------------------------------------------------------------------------- sandbox & media


@pytest.fixture(scope="session")
def sandbox_server():
    from sandbox import server

    running = server.start()
    yield running
    running.stop()


@pytest.fixture
def sandbox(sandbox_server):
    """The platform sandbox over real HTTP, reset for each test."""
    sandbox_server.sandbox.reset()
    return sandbox_server


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def file_server(media_dir):
    from tests.support.media import serve_directory

    running = serve_directory(media_dir)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sample_video(media_dir, file_server):
    """A real 4-second 540x960 H.264/AAC MP4, served over HTTP."""
    from shared.media.samples import make_video

    path = make_video(media_dir / "sample.mp4")
    return file_server.source(path)
