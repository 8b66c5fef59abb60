from __future__ import annotations

import pytest

from tests.support.stack import PIPELINE_TEST_ENV, Clock, Harness, configure_env

# Client-side timeout of the adapters under test; the sandbox's `timeout` fault hangs longer.
HTTP_TIMEOUT = 1.5
HANG_SECONDS = 2.0


@pytest.fixture
def local_storage(tmp_path, monkeypatch):
    from shared.storage import set_storage
    from shared.storage.local import LocalStorage

    # Serves its signed URLs over HTTP from its own server, started on first use.
    backend = LocalStorage(str(tmp_path / "storage"), bucket="videos", signing_key=b"pipeline-test-signing-key")
    set_storage(backend)
    yield backend
    set_storage(None)
    if getattr(backend, "server", None) is not None:
        backend.server.stop()


@pytest.fixture
def harness(db, sandbox, local_storage, tmp_path, monkeypatch):
    configure_env(monkeypatch, sandbox.url, tmp_path / "storage")
    sandbox.sandbox.config["processing_seconds"] = 0
    return Harness(db, sandbox, local_storage, Clock())


@pytest.fixture
def pipeline(db, sandbox, local_storage, tmp_path, monkeypatch):
    """The harness with short adapter HTTP timeouts and no in-step retries (see PIPELINE_TEST_ENV)."""
    configure_env(monkeypatch, sandbox.url, tmp_path / "storage")
    for name, value in PIPELINE_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    sandbox.sandbox.config["processing_seconds"] = 0
    return Harness(db, sandbox, local_storage, Clock(), http_timeout=HTTP_TIMEOUT)


@pytest.fixture(scope="session")
def vertical_video(media_dir):
    from shared.media.samples import make_video

    return make_video(media_dir / "pipeline-vertical.mp4", seconds=4, width=540, height=960)
