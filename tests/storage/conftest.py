from __future__ import annotations

import secrets
import time

import pytest

from shared.storage.local import LocalStorage


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
    server = backend.start_server()
    yield backend
    server.stop()


SERVICE_KEY = secrets.token_urlsafe(24)  # made per run: the stand-in accepts whatever key it is given


@pytest.fixture
def supabase_server(tmp_path, clock):
    """The Supabase Storage stand-in (tuspyserver behind Supabase's paths), over real HTTP."""
    from tests.support.supabase_storage import start_storage_server

    running = start_storage_server(tmp_path / "supabase", service_key=SERVICE_KEY, clock=clock)
    yield running
    running.stop()


@pytest.fixture
def supabase_storage(supabase_server):
    from shared.storage.supabase import SupabaseStorage

    return SupabaseStorage(supabase_server.url, SERVICE_KEY, tus_retry_delay=0.05)


@pytest.fixture(params=["local", "supabase"])
def backend(request):
    """Each behaviour test runs once against LocalStorage and once against SupabaseStorage."""
    return request.getfixturevalue(f"{request.param}_storage")
