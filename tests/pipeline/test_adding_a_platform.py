"""Adding a platform is its own package plus one registry line: nothing generic changes.

Echo (tests/pipeline/echo_platform/) is registered for the test only; its platform is a
small server over real HTTP. It connects through the real OAuth flow, gets a publish
queue, a reconnect URL, a catalog entry, is published through the real publish endpoint and
by the real worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from shared.connections import flow, service
from shared.platforms import adapters, providers
from shared.platforms.registry import including, registry
from shared.tasks.queues import queue_specs
from shared.wsgi_server import serve_in_thread
from tests.pipeline import echo_platform
from tests.pipeline.api import call
from tests.pipeline.echo_platform.server import EchoServer
from tests.support.parts import access, base_url
from tests.support.stack import Harness


@pytest.fixture
def echo(monkeypatch):
    server = EchoServer()
    running = serve_in_thread(server, name="echo-platform")
    monkeypatch.setenv("ECHO_API_BASE", running.url)
    monkeypatch.setenv("ECHO_CLIENT_ID", "echo-client")
    monkeypatch.setenv("ECHO_CLIENT_SECRET", "echo-secret")
    with including(echo_platform.PLATFORM):
        yield server
    running.stop()


def _connect(harness: Harness, user: dict[str, str]) -> str:
    url = flow.start_authorization(harness.db, access(), user["sub"], "echo", base_url=base_url(),
                                   now=datetime.now(UTC))
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    assert answer.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["location"]).query).items()}
    result = flow.complete_authorization(harness.db, access(), "echo", code=params["code"], state=params["state"],
                                         base_url=base_url(), now=datetime.now(UTC))
    return result.connection_ids[0]


def test_a_registered_platform_connects_and_publishes_through_the_generic_paths(
        harness: Harness, monkeypatch, user_a, vertical_video, echo) -> None:
    assert "echo" in registry() and adapters()["echo"] is echo_platform.EchoAdapter
    assert providers()["echo"] is echo_platform.EchoOAuth
    assert queue_specs()["publish-echo"].dispatch_deadline_s == 600

    connection_id = _connect(harness, user_a)
    listed = service.get_connection(harness.db, user_a, connection_id, base_url()).model_dump()
    assert (listed["platform"], listed["display_platform"], listed["username"]) == ("echo", "Echo", "echoer")
    assert listed["reconnect_url"].endswith("/oauth/start/echo")

    video_id = harness.video(user_a, vertical_video)
    # The real publish endpoint: the request models take every platform registered when the request is read.
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a, json={
        "video_id": video_id, "caption": "Hello Echo", "hashtags": ["spring"], "targets": [{"platform": "echo"}]})
    assert status == 202, body
    target = body["targets"][0]
    assert target["platform"] == "echo"
    harness.run()

    published = harness.target(target["target_id"])
    assert published["state"] == "published", published
    assert str(published["connection_id"]) == connection_id
    assert published["platform_post_id"] == "v1" and published["platform_url"] == "https://echo.test/v1"
    assert [(v["marker"], v["caption"]) for v in echo.videos] == [(target["target_id"], "Hello Echo #spring")]
    assert echo.videos[0]["video_url"].startswith("http")


def test_the_registry_is_back_to_its_listed_platforms_after_the_block() -> None:
    assert "echo" not in registry()
    with pytest.raises(KeyError):
        registry()["echo"]
