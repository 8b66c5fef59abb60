"""Adding a platform is its own package plus one registry line: nothing generic changes.

Echo (tests/pipeline/echo_platform/) is registered for the test only; its platform is a
small server over real HTTP. It connects through the real OAuth flow, gets a publish
queue, a reconnect URL, a catalog entry, and publishes through the real worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from psycopg.types.json import Jsonb

from shared.connections import flow, service
from shared.platforms import adapters, providers
from shared.platforms.registry import including, registry
from shared.tasks.queues import queue_specs
from shared.wsgi_server import serve_in_thread
from tests.pipeline import echo_platform
from tests.pipeline.echo_platform.server import EchoServer
from tests.support.parts import base_url, vault
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
    url = flow.start_authorization(harness.db, vault(), user["sub"], "echo", base_url=base_url(), now=datetime.now(UTC))
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    assert answer.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["location"]).query).items()}
    result = flow.complete_authorization(harness.db, vault(), "echo", code=params["code"], state=params["state"],
                                         base_url=base_url(), now=datetime.now(UTC))
    return result.connection_ids[0]


def _queued_target(harness: Harness, user: dict[str, str], video_id: str, connection_id: str) -> dict:
    # The publish request's per-platform models are still listed by hand (shared/publishing/requests.py),
    # so the target is stored as create_post stores one.
    with harness.db.service() as conn:
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, %s) returning id",
                            (user["sub"], video_id, "Hello Echo")).fetchone()
        return dict(conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, caption, hashtags, options, "
            "next_attempt_at) values (%s, %s, %s, 'echo', %s, %s, %s, now()) returning id, task_seq",
            (user["sub"], post["id"], connection_id, "Hello Echo", ["spring"], Jsonb({}))).fetchone())


def test_a_registered_platform_connects_and_publishes_through_the_generic_paths(
        harness: Harness, user_a, vertical_video, echo) -> None:
    assert "echo" in registry() and adapters()["echo"] is echo_platform.EchoAdapter
    assert providers()["echo"] is echo_platform.EchoOAuth
    assert queue_specs()["publish-echo"].dispatch_deadline_s == 600

    connection_id = _connect(harness, user_a)
    listed = service.get_connection(harness.db, user_a, connection_id, base_url()).model_dump()
    assert (listed["platform"], listed["display_platform"], listed["username"]) == ("echo", "Echo", "echoer")
    assert listed["reconnect_url"].endswith("/oauth/start/echo")

    video_id = harness.video(user_a, vertical_video)
    target = _queued_target(harness, user_a, video_id, connection_id)
    harness.rt.enqueue(str(target["id"]), "echo", target["task_seq"])
    harness.run()

    published = harness.target(str(target["id"]))
    assert published["state"] == "published", published
    assert published["platform_post_id"] == "v1" and published["platform_url"] == "https://echo.test/v1"
    assert [(v["marker"], v["caption"]) for v in echo.videos] == [(str(target["id"]), "Hello Echo #spring")]
    assert echo.videos[0]["video_url"].startswith("http")


def test_the_registry_is_back_to_its_listed_platforms_after_the_block() -> None:
    assert "echo" not in registry()
    with pytest.raises(KeyError):
        registry()["echo"]
