from __future__ import annotations

import secrets
import time

import pytest

from shared.storage.local import LocalStorage
from shared.storage.local_server import start_in_thread


class Clock:
    """A clock the test moves by hand (signed URL expiry)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def local_storage(tmp_path, clock):
    backend = LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32), clock=clock)
    server = start_in_thread(backend)
    yield backend
    server.stop()
