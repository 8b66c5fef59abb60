"""Account lifecycle tests: the connections fixtures (sandbox OAuth, vault key) plus a real storage backend."""

from __future__ import annotations

import secrets

import pytest

from shared.storage.local import LocalStorage
from tests.connections.conftest import connections_env, platforms  # noqa: F401 - fixtures used here too


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32))
