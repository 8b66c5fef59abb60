"""The API as a frontend sees it: every Cloud Function on the local functions server over real
HTTP, real JWTs, PostgreSQL with RLS, the platform sandbox, local storage and the Cloud Tasks
emulator (tests/support/cloud_stack.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import make_user
from tests.support.cloud_stack import NO_POLL_WAIT_ENV, CloudStack, StackClient


@pytest.fixture(scope="module")
def stack(db, sandbox_server, tmp_path_factory) -> Iterator[CloudStack]:
    with CloudStack(db, sandbox_server.url, tmp_path_factory.mktemp("api-storage"), extra_env=NO_POLL_WAIT_ENV,
                    emulator_max_retries=0) as running:
        yield running


@pytest.fixture
def user(db) -> dict[str, str]:
    return make_user(db)


@pytest.fixture
def client(stack, user, sandbox) -> Iterator[StackClient]:
    sandbox.sandbox.config["processing_seconds"] = 0
    with stack.client(user) as api:
        yield api


@pytest.fixture(scope="module")
def vertical_file(media_dir):
    from shared.media.samples import make_video

    return make_video(media_dir / "api-vertical.mp4", seconds=4, width=540, height=960)


@pytest.fixture
def video_id(client: StackClient, vertical_file) -> str:
    return client.upload(vertical_file)


def connect_account(client: StackClient, platform: str, account: str | None = None) -> str:
    """The real OAuth redirects, as a browser follows them; `account` picks a sandbox account."""
    started = client.api.post(f"/oauth/start/{platform}", json={}).json()
    url = started["authorization_url"] + (f"&sandbox_account={account}" if account else "")
    consent = client.browser.get(url)
    assert consent.status_code == 302, consent.text
    back = client.browser.get(consent.headers["location"])
    assert back.status_code == 302 and f"connected={platform}" in back.headers["location"], back.headers
    return next(c["id"] for c in client.connections() if c["platform"] == platform
                and (account is None or c["platform_account_id"] == account))


def raw_request(base_url: str, head: bytes, body: bytes = b"", *, wait: float = 15.0) -> tuple[float, bytes]:
    """Send bytes as they are (a lying Content-Length, a body cut short) and read the answer.

    Returns (seconds until the first answer bytes arrived, the answer).
    """
    url = urlparse(base_url)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=wait) as sock:
        started = time.monotonic()
        sock.sendall(head + body)
        first = sock.recv(65536)
        elapsed = time.monotonic() - started
        data = first
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass
    return elapsed, data


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"code", "message", "detail", "request_id"}, body
    return dict(body)
