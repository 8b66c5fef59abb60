"""Webhooks as deployed: the functions over HTTP, the tick fanning out, the Cloud Tasks emulator delivering.

Nothing in this process calls the delivery code: the scheduler tick's endpoint
creates the tasks on the `webhooks` queue, the emulator POSTs them to
`/webhook-delivery`, which signs and sends them to the receiver.
"""

from __future__ import annotations

import pytest

from shared.tasks.queues import WEBHOOK_QUEUE
from tests.conftest import make_user
from tests.support.cloud_stack import NO_POLL_WAIT_ENV, CloudStack, StackClient
from tests.support.stack import wait_for
from tests.webhooks.conftest import verified


@pytest.fixture(scope="module")
def stack(db, sandbox_server, tmp_path_factory):
    with CloudStack(db, sandbox_server.url, tmp_path_factory.mktemp("webhook-stack"), extra_env=NO_POLL_WAIT_ENV,
                    emulator_max_retries=0) as running:
        yield running


@pytest.fixture
def client(stack, db, sandbox):
    sandbox.sandbox.config["processing_seconds"] = 0
    with stack.client(make_user(db)) as api:
        yield api


@pytest.fixture(scope="module")
def video_file(media_dir):
    from shared.media.samples import make_video

    return make_video(media_dir / "webhooks-e2e.mp4", seconds=4, width=540, height=960)


def test_events_travel_through_the_webhooks_queue(stack, client: StackClient, receiver, video_file) -> None:
    created = client.api.post("/webhooks", json={"url": receiver.url + "/e2e",
                                                 "events": ["target.published", "post.completed"]})
    assert created.status_code == 201, created.text
    endpoint = created.json()

    client.connect("instagram")
    answer = client.publish(client.upload(video_file), platforms=("instagram",))
    client.wait_until_done(answer["post_id"])

    tick = client.api.post("/scheduler-tick", json={})
    assert tick.status_code == 200, tick.text
    assert tick.json()["webhooks"]["deliveries"] >= 2  # the session's database may hold other tests' events
    requests = wait_for(lambda: (r := receiver.to("/e2e")) and len(r) == 2 and r, timeout=30)
    bodies = verified(requests, endpoint["secret"])
    assert sorted(b["type"] for b in bodies) == ["post.completed", "target.published"]
    assert {b["data"]["post_id"] for b in bodies} == {answer["post_id"]}
    assert all(r.headers["user-agent"].startswith("shortpub-webhooks") for r in requests)

    wait_for(lambda: len(client.api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["deliveries"]) == 2)
    listed = client.api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["deliveries"]
    assert {(d["response_status"], d["delivery_status"]) for d in listed} == {(200, "succeeded")}
    assert stack.emulator.pending_tasks(WEBHOOK_QUEUE) == []

    test = client.api.post(f"/webhooks/{endpoint['id']}/test")
    assert test.status_code == 200 and test.json()["succeeded"] is True

    prefs = client.api.patch("/me/notifications", json={"webhooks": "failures"})
    assert prefs.status_code == 200 and prefs.json()["preferences"]["webhooks"] == "failures"
    assert client.api.get("/me/notifications").json()["preferences"]["webhooks"] == "failures"
    gone = client.api.delete(f"/webhooks/{endpoint['id']}")
    assert gone.status_code == 200 and client.api.get("/webhooks").json() == {"webhooks": []}
