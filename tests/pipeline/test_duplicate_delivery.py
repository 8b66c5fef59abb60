"""At-least-once delivery: every task twice, deliveries out of order, stale tasks redelivered.

Whatever order and however often Cloud Tasks delivers, each target publishes exactly once.
"""

from __future__ import annotations

import random
from typing import Any

from tests.pipeline.flows import NETWORKS, publish
from tests.support.stack import Harness


def _assert_one_post_each(harness: Harness, user: dict[str, str], post_id: str) -> None:
    view = harness.post(user, post_id)
    assert {t["platform"]: t["state"] for t in view["targets"]} == {p: "published" for p in NETWORKS}, view
    for platform in NETWORKS:
        assert len(harness.published(platform)) == 1, (platform, harness.published(platform))


def test_every_task_delivered_twice_publishes_once(harness: Harness, user_a, vertical_video) -> None:
    def twice(payload: dict[str, Any]) -> None:
        harness.advance(payload)
        harness.advance(payload)

    harness.deliver = twice
    answer = publish(harness, user_a, vertical_video, NETWORKS)
    harness.run()

    _assert_one_post_each(harness, user_a, answer["post_id"])
    # Every second delivery was a no-op: its sequence number was used, or the target was done.
    assert harness.outcomes[0::2].count("stale") == 0
    assert set(harness.outcomes[1::2]) <= {"stale", "not_runnable"}, harness.outcomes


def test_reordered_deliveries_and_stale_redeliveries_publish_once(harness: Harness, user_a, vertical_video) -> None:
    shuffle = random.Random(20261123)
    seen: list[dict[str, Any]] = []

    def replaying(payload: dict[str, Any]) -> None:
        harness.advance(payload)
        # Old tasks of any target come back in random order (Cloud Tasks retries, a lost ack).
        for old in shuffle.sample(seen, k=min(3, len(seen))):
            harness.advance(old)
        seen.append(payload)

    harness.deliver = replaying
    answer = publish(harness, user_a, vertical_video, NETWORKS)
    delivered = 0
    while (pending := harness.queue.pending()) and delivered < 400:
        # Take every task due at the earliest time and deliver them newest first.
        harness.clock.now = max(harness.clock.now, pending[0].run_at)
        batch = []
        while (task := harness.queue._pop(harness.clock.now)) is not None:
            batch.append(task)
        for task in reversed(batch):
            harness.queue._run(task)
            delivered += 1

    _assert_one_post_each(harness, user_a, answer["post_id"])
    assert harness.outcomes.count("stale") > 10
    assert "published" in harness.outcomes
