from __future__ import annotations

import pytest

# The pipeline harness (real OAuth flows, real pipeline, sandbox over HTTP) and its cleanup.
from tests.pipeline.conftest import (  # noqa: F401 - fixtures
    harness,
    local_storage,
    park_leftover_targets,
    session_storage,
    vertical_video,
)


@pytest.fixture
def only_our_targets_due(db):
    """The session's database holds other tests' published targets: take them out of the due set."""
    with db.service() as conn:
        conn.execute("update publish_targets set metrics_due_at = null where metrics_due_at is not null")
    yield


@pytest.fixture(scope="module")
def functions_server_with_auth(db):
    """The functions server on a free port, accepting tokens signed with the tests' secret."""
    import os

    from shared.app import bootstrap, install
    from shared.local import functions_server
    from tests.support.stack import JWT_SECRET

    before = os.environ.get("SUPABASE_JWT_SECRET")
    os.environ["SUPABASE_JWT_SECRET"] = JWT_SECRET
    previous = install(bootstrap(database=db))
    running = functions_server.start(0)
    yield running
    running.stop()
    install(previous)
    if before is None:
        os.environ.pop("SUPABASE_JWT_SECRET", None)
    else:
        os.environ["SUPABASE_JWT_SECRET"] = before
