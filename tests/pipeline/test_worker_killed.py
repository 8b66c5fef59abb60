"""A worker process killed with SIGKILL in the middle of an irreversible call.

The step runs in a child process (tests/pipeline/kill_worker.py) against the same
database and sandbox. Killed after the platform acted (sandbox `slow` fault: the work
is done, the answer is late), the lease runs out, the tick re-enqueues the target and
reconcile finds the post: exactly one post. Killed before the platform acted (`timeout`
fault: the request hangs), reconcile finds nothing and the step is done again: still one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.flows import publish
from tests.support.stack import Harness, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _run_until_step(harness: Harness, target_id: str, step: str) -> Any:
    """Deliver tasks one by one until the next task of the target is `step`; return that task, undelivered."""
    for _ in range(100):
        if (harness.target(target_id)["step_data"] or {}).get("step") == step:
            pending = harness.queue.pending()
            assert len(pending) == 1, pending
            harness.clock.now = max(harness.clock.now, pending[0].run_at)
            return harness.queue._pop(pending[0].run_at)
        pending = harness.queue.pending()
        assert pending, harness.target(target_id)
        harness.clock.now = max(harness.clock.now, pending[0].run_at)
        harness.queue._run(harness.queue._pop(harness.clock.now))
    raise AssertionError(f"never reached step {step}")


def _start_worker(harness: Harness, database_url: str, task: Any) -> subprocess.Popen[str]:
    storage = harness.storage
    env = dict(os.environ, DATABASE_URL=database_url, LOCAL_STORAGE_DIR=str(storage.root.parent),
               LOCAL_STORAGE_URL=storage.base_url, LOCAL_STORAGE_SIGNING_KEY=storage.signing_key.decode())
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline.kill_worker", task.payload["target_id"], str(task.payload["seq"]),
         harness.clock.now.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )


def _kill(child: subprocess.Popen[str]) -> None:
    assert child.poll() is None, "the worker finished before it was killed"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL


def _recover(harness: Harness, target_id: str) -> dict[str, Any]:
    killed = harness.target(target_id)
    assert killed["state"] == "publishing"
    assert "pending_call" in killed["step_data"], killed["step_data"]
    assert killed["lease_expires_at"] is not None
    # While the dead worker's lease lasts, the tick leaves the target alone.
    harness.clock.advance(minutes=5)
    assert target_id not in harness.tick()
    harness.clock.now = killed["lease_expires_at"] + timedelta(seconds=1)
    assert target_id in harness.tick()
    harness.run()
    return harness.target(target_id)


def _posts(harness: Harness, platform: str) -> int:
    if platform == "blotato":  # Blotato records a post once it settles; count what was created
        return len(harness.sandbox.sandbox.store("blotato").get("posts", {}))
    return len(harness.published(platform))


@pytest.mark.parametrize(("platform", "operation", "step"),
                         [("instagram", "publish", "publish"), ("blotato", "create_post", "create_post")])
def test_killed_after_the_platform_acted_reconciles_to_one_post(
    pipeline: Harness, database_url: str, user_a, vertical_video, platform: str, operation: str, step: str
) -> None:
    answer = publish(pipeline, user_a, vertical_video, [platform])
    target_id = answer["by_platform"][platform]
    task = _run_until_step(pipeline, target_id, step)
    pipeline.fault(platform, operation, "slow", delay_s=60)

    child = _start_worker(pipeline, database_url, task)
    try:
        wait_for(lambda: _posts(pipeline, platform) == 1, timeout=30)
    finally:
        _kill(child)

    final = _recover(pipeline, target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert len(pipeline.published(platform)) == 1
    assert _posts(pipeline, platform) == 1
    transitions = [(e["from_state"], e["to_state"]) for e in pipeline.events(target_id)]
    assert ("publishing", "reconciling") in transitions


def test_killed_before_the_platform_acted_redoes_the_step_once(
    pipeline: Harness, database_url: str, user_a, vertical_video
) -> None:
    answer = publish(pipeline, user_a, vertical_video, ["instagram"])
    target_id = answer["by_platform"]["instagram"]
    task = _run_until_step(pipeline, target_id, "publish")
    hang = pipeline.fault("instagram", "publish", "timeout", delay_s=60)

    child = _start_worker(pipeline, database_url, task)
    try:
        wait_for(lambda: hang.times == 0, timeout=30)  # the request arrived and hangs
    finally:
        _kill(child)
    assert pipeline.published("instagram") == []

    final = _recover(pipeline, target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert len(pipeline.published("instagram")) == 1
