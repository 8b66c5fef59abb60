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
