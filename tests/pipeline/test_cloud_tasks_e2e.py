"""The whole pipeline through the Cloud Tasks emulator: what production does, on one machine.

Every hop is real: the functions-framework server answers the API and the publish
workers; the emulator (gRPC) holds the tasks and POSTs them to `/publish-<platform>`;
the workers call the platform sandbox over HTTP, which downloads the video from local
storage's signed URL; the state lives in PostgreSQL. Nothing in this process calls
the worker directly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from shared.tasks.queues import publish_queue_name
from tests.conftest import make_user
from tests.support.cloud_stack import NO_POLL_WAIT_ENV, PLATFORMS, CloudStack, StackClient

# An upper bound for "eventually", not a speed goal (that is bench/pipeline_bench.py).
PUBLISH_TIMEOUT_S = 60.0
# TikTok is staged this long before its slot here: a slot just beyond it stages within seconds.
TIKTOK_LEAD = timedelta(days=2)


@pytest.fixture(scope="module")
def stack(db, sandbox_server, tmp_path_factory):
    # emulator_max_retries=0: a worker answering 5xx would show up as a stuck target
    # here instead of being hidden by the emulator re-sending at once.
    with CloudStack(db, sandbox_server.url, tmp_path_factory.mktemp("cloud-stack-storage"),
                    extra_env={**NO_POLL_WAIT_ENV, "FACEBOOK_STAGE_LEAD_MINUTES": "0",
                               "TIKTOK_STAGE_LEAD_MINUTES": str(TIKTOK_LEAD.total_seconds() / 60)},
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

    return make_video(media_dir / "cloud-tasks-e2e.mp4", seconds=4, width=540, height=960)


def test_four_platforms_publish_once_each_through_the_emulator(stack, client: StackClient, sandbox, db, video_file):
    for platform in PLATFORMS:
        client.connect(platform)
    connected = {c["platform"]: c["status"] for c in client.connections()}
    assert connected == {p: "connected" for p in PLATFORMS}

    video_id = client.upload(video_file)
    answer = client.publish(video_id)
    assert {t["platform"] for t in answer["targets"]} == set(PLATFORMS)
    assert {t["state"] for t in answer["targets"]} == {"queued"}

    view = client.wait_until_done(answer["post_id"], timeout=PUBLISH_TIMEOUT_S)
    states = {t["platform"]: (t["state"], t["user_message"]) for t in view["targets"]}
    assert states == {p: ("published", None) for p in PLATFORMS}, states
    assert view["summary"] == "Published to 4 of 4 platforms."
    for target in view["targets"]:
        assert target["platform_url"], target
        records = sandbox.sandbox.published_for(target["platform"])
        assert len(records) == 1, (target["platform"], records)
        assert records[0]["post_id"] == target["platform_post_id"], (records, target)

    # Each target moved through its steps one task at a time; no task is left behind.
    with db.service() as conn:
        rows = conn.execute(
            "select t.platform, t.task_seq, t.next_attempt_at, "
            "       (select count(*) from publish_events e where e.target_id = t.id) as events "
            "  from publish_targets t where t.post_id = %s", (answer["post_id"],)
        ).fetchall()
    for row in rows:
        assert row["task_seq"] >= 2 and row["events"] >= 3, dict(row)
        assert row["next_attempt_at"] is None, dict(row)
    for platform in PLATFORMS:
        assert stack.emulator.pending_tasks(publish_queue_name(platform)) == []


def test_an_unknown_target_task_is_a_no_op_not_a_retry_loop(stack, client: StackClient):
    """A stale task (a target that no longer exists) answers 2xx, so Cloud Tasks drops it."""
    import uuid

    import httpx

    response = httpx.post(f"{stack.functions_url}/publish-tiktok", json={"target_id": str(uuid.uuid4()), "seq": 1},
                          headers={"X-CloudTasks-QueueName": "publish-tiktok"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "missing"



def _slot_tasks(stack, platform: str, target_id: str) -> list:
    return [task for task in stack.emulator.pending_tasks(publish_queue_name(platform)) if target_id in task.name]


def test_a_scheduled_post_gets_its_task_at_its_slot_and_an_edit_replaces_it(stack, client: StackClient, video_file):
    from datetime import UTC, datetime, timedelta

    import httpx

    client.connect("facebook")
    video_id = client.upload(video_file)
    slot = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    answer = client.publish(video_id, ("facebook",), publish_at=slot.isoformat())
    target_id = answer["targets"][0]["target_id"]
    assert answer["targets"][0]["state"] == "scheduled"

    # The task exists as soon as the post is scheduled, due at the slot (to the millisecond: the
    # task carries a delay from the moment of the request).
    first = _slot_tasks(stack, "facebook", target_id)
    assert len(first) == 1
    assert first[0].schedule_time.timestamp() == pytest.approx(slot.timestamp(), abs=1.0)

    moved = slot + timedelta(hours=3)
    edited = client.api.patch(f"/publish-video/targets/{target_id}", json={"publish_at": moved.isoformat()})
    assert edited.status_code == 200, edited.text
    tasks = _slot_tasks(stack, "facebook", target_id)
    times = sorted(t.schedule_time.timestamp() for t in tasks)
    assert times == [pytest.approx(slot.timestamp(), abs=1.0), pytest.approx(moved.timestamp(), abs=1.0)]
    new_task = max(tasks, key=lambda t: t.schedule_time.timestamp())
    assert new_task.name.endswith("-1")  # sequence 1: the edit bumped task_seq

    # The old task, delivered at the old slot, is a no-op: its sequence is stale.
    old_delivery = httpx.post(f"{stack.functions_url}/publish-facebook", json={"target_id": target_id, "seq": 0},
                              headers={"X-CloudTasks-QueueName": "publish-facebook"}, timeout=10)
    assert old_delivery.status_code == 200, old_delivery.text
    assert old_delivery.json()["outcome"] == "stale"
    assert client.post(answer["post_id"])["targets"][0]["state"] == "scheduled"


def test_a_scheduled_tiktok_post_is_checked_ahead_through_the_emulator_and_only_uploads_at_its_slot(
        stack, client: StackClient, sandbox, db, video_file):
    import httpx

    client.connect("tiktok")
    video_id = client.upload(video_file)
    slot = (datetime.now(UTC) + TIKTOK_LEAD + timedelta(seconds=5)).replace(microsecond=0)
    answer = client.publish(video_id, ("tiktok",), publish_at=slot.isoformat())
    target_id = answer["targets"][0]["target_id"]
    assert answer["targets"][0]["state"] == "scheduled"

    def staged() -> dict | None:
        with db.service() as conn:
            row = conn.execute("select state, step_data, next_attempt_at, task_seq from publish_targets "
                               "where id = %s", (target_id,)).fetchone()
        return dict(row) if row["step_data"].get("staged") else None

    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while (row := staged()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert row is not None, "the staging task was not delivered"
    # Checked (creator_info) at its lead time; the upload waits for the slot's task.
    assert row["state"] == "scheduled" and row["step_data"]["step"] == "init"
    assert row["next_attempt_at"].timestamp() == pytest.approx(slot.timestamp(), abs=1.0)
    (slot_task,) = _slot_tasks(stack, "tiktok", target_id)
    assert slot_task.schedule_time.timestamp() == pytest.approx(slot.timestamp(), abs=1.0)
    assert slot_task.name.endswith(f"-{row['task_seq']}")
    assert sandbox.sandbox.published_for("tiktok") == []

    # A cancel needs nothing on TikTok: the slot's task then finds nothing to run.
    canceled = client.api.post(f"/publish-video/targets/{target_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled", canceled.text
    at_slot = httpx.post(f"{stack.functions_url}/publish-tiktok", json={"target_id": target_id,
                                                                     "seq": row["task_seq"]},
                         headers={"X-CloudTasks-QueueName": "publish-tiktok"}, timeout=10)
    assert at_slot.status_code == 200 and at_slot.json()["outcome"] == "not_runnable", at_slot.text
    assert sandbox.sandbox.published_for("tiktok") == []
