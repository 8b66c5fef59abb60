from __future__ import annotations

import pytest

from tests.support.stack import PIPELINE_TEST_ENV, Clock, Harness, configure_env

# Client-side timeout of the adapters under test; the sandbox's `timeout` fault hangs longer.
HTTP_TIMEOUT = 1.0
HANG_SECONDS = 1.2


@pytest.fixture(scope="session")
def session_storage(tmp_path_factory):
    from shared.storage.local import LocalStorage

    # One store and file server for the session: stopping a server per test costs ~0.4 s.
    # Paths start with the user id, and every test has its own users.
    backend = LocalStorage(str(tmp_path_factory.mktemp("pipeline") / "storage"), bucket="videos",
                           signing_key=b"pipeline-test-signing-key")
    yield backend
    if getattr(backend, "server", None) is not None:
        backend.server.stop()


@pytest.fixture
def local_storage(session_storage, make_app):
    """Serves its signed URLs over HTTP from its own server, started on first use."""
    make_app(storage=session_storage)
    return session_storage


@pytest.fixture(autouse=True)
def fresh_project_rate_windows(db):
    """Blotato's per-minute rates count the whole project (its key): another test's calls in the
    same wall-clock minute must not slow this one down."""
    with db.service() as conn:
        conn.execute("delete from platform_quota_usage where platform = 'blotato' and scope like 'project/%'")
    yield


@pytest.fixture(autouse=True)
def park_leftover_targets(db):
    """Targets left runnable would be claimed by this test's tick: cancel them before and after.

    Before too, because tests outside this directory share the worker's database (the API fuzzer
    alone leaves hundreds of scheduled posts) and a tick here would otherwise run them.
    """
    _park_runnable_targets(db)
    yield
    _park_runnable_targets(db)


def _park_runnable_targets(db) -> None:
    from shared.publishing import states

    with db.service() as conn:
        conn.execute("update publish_targets set state = 'canceled', next_attempt_at = null, lease_owner = null, "
                     "lease_expires_at = null "
                     "where state = any(%s) or (state = 'canceled' and next_attempt_at is not null)",
                     (sorted(states.RUNNABLE),))
        # A bulk batch still waiting to be expanded would take this test's batch's place: expansion
        # takes the oldest few per call. Deleted, not marked failed: a status change is an event
        # (batch.completed) that a later webhook test would count. Nothing refers to it before expansion.
        conn.execute("delete from publish_batches where status = 'accepted'")
        # Project-wide budgets (YouTube's daily units, Blotato's key) and Meta's usage holds count every
        # test's calls: what earlier tests spent must not defer this test's steps.
        conn.execute("delete from platform_quota_usage where scope like 'project/%'")
        conn.execute("delete from platform_usage_holds")
        # A published target with a follow-up due (its link still to read) is claimed by the tick too.
        conn.execute("update publish_targets set next_attempt_at = null, lease_owner = null, lease_expires_at = null "
                     "where state = 'published' and next_attempt_at is not null")


@pytest.fixture
def harness(db, sandbox, local_storage, tmp_path, monkeypatch, make_app):
    configure_env(monkeypatch, sandbox.url, local_storage.root.parent)
    sandbox.sandbox.config["processing_seconds"] = 0
    harness = Harness(db, sandbox, local_storage, Clock())
    make_app.install(harness.app)
    return harness


@pytest.fixture
def pipeline(db, sandbox, local_storage, tmp_path, monkeypatch, make_app):
    """The harness with short adapter HTTP timeouts and no in-step retries (see PIPELINE_TEST_ENV)."""
    configure_env(monkeypatch, sandbox.url, local_storage.root.parent)
    for name, value in PIPELINE_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    sandbox.sandbox.config["processing_seconds"] = 0
    harness = Harness(db, sandbox, local_storage, Clock(), http_timeout=HTTP_TIMEOUT)
    make_app.install(harness.app)
    return harness


@pytest.fixture(scope="session")
def vertical_video(media_dir):
    from shared.media.samples import make_video

    return make_video(media_dir / "pipeline-vertical.mp4", seconds=4, width=540, height=960)
