"""Queue definitions from adapter quota data, and task names."""

from __future__ import annotations

import re

from shared.platforms.base import PlatformAdapter, QuotaRule
from shared.platforms.registry import registry
from shared.tasks.client import task_id_for
from shared.tasks.queues import (
    DEFAULT_DISPATCHES_PER_SECOND,
    MAX_DISPATCH_DEADLINE_S,
    MIN_DISPATCH_DEADLINE_S,
    WEBHOOK_QUEUE,
    queue_spec,
    queue_specs,
)


def _adapter(name: str, quotas: tuple[QuotaRule, ...]) -> type[PlatformAdapter]:
    # A plain subclass, not in the registry: only its quotas matter here.
    return type(name, (PlatformAdapter,), {"quotas": quotas})  # type: ignore[return-value]


def _rule(limit: int, scope: str, window: str) -> QuotaRule:
    return QuotaRule(name="r", limit=limit, scope=scope, window=window, user_message="m")  # type: ignore[arg-type]


def test_rate_comes_from_the_tightest_project_wide_per_minute_rule():
    rated = _adapter("Rated", (_rule(120, "project", "per_minute"), _rule(30, "project", "per_minute"),
                               _rule(6, "account", "per_minute"), _rule(10, "project", "rolling_24h")))
    specs = queue_specs({"rated": rated, "plain": _adapter("Plain", ())})
    assert specs["publish-rated"].max_dispatches_per_second == 0.5
    assert specs["publish-plain"].max_dispatches_per_second == DEFAULT_DISPATCHES_PER_SECOND


def test_every_platform_and_the_webhooks_have_a_valid_queue_and_nothing_else_does():
    KNOWN_PLATFORMS = registry().keys()
    specs = queue_specs({})
    assert set(specs) == {f"publish-{key}" for key in KNOWN_PLATFORMS} | {WEBHOOK_QUEUE}
    for spec in specs.values():
        assert MIN_DISPATCH_DEADLINE_S <= spec.dispatch_deadline_s <= MAX_DISPATCH_DEADLINE_S
        assert 0 < spec.max_dispatches_per_second <= 500
        assert spec.retry.max_attempts == 5
        assert spec.retry.min_backoff_s == 10 and spec.retry.max_backoff_s == 300
    # Whole-file uploads may take Cloud Tasks' full 30 minutes.
    assert specs["publish-youtube"].dispatch_deadline_s == 1800
    assert specs["publish-tiktok"].dispatch_deadline_s == 1800


def test_publish_queues_dispatch_at_cloud_tasks_maximum_unless_the_platform_caps_the_project():
    specs = queue_specs()
    assert DEFAULT_DISPATCHES_PER_SECOND == 500
    for key in ("tiktok", "instagram", "youtube", "facebook"):
        assert specs[f"publish-{key}"].max_dispatches_per_second == 500
    # Blotato's API key allows a few posts a minute for the whole project: its queue stays at that rate.
    assert specs["publish-blotato"].max_dispatches_per_second < 1


def test_registered_adapters_get_queues_and_unknown_publish_queues_get_defaults():
    assert queue_spec("publish-youtube").name == "publish-youtube"
    assert queue_spec("publish-newplatform").max_dispatches_per_second == DEFAULT_DISPATCHES_PER_SECOND


def test_queue_resource_matches_the_cloud_tasks_api():
    from google.cloud import tasks_v2

    queue = tasks_v2.Queue(queue_specs({})["publish-youtube"].as_queue("proj", "europe-west1"))
    assert queue.name == "projects/proj/locations/europe-west1/queues/publish-youtube"
    assert queue.retry_config.max_attempts == 5
    assert queue.retry_config.min_backoff.total_seconds() == 10
    assert queue.rate_limits.max_concurrent_dispatches == 5


def test_task_ids_are_stable_hash_prefixed_and_safe():
    target = "3f1c2a9e-8f1e-4b8a-9d36-1d0c2b7e4a10"
    first, again, second = task_id_for(target, 1), task_id_for(target, 1), task_id_for(target, 2)
    assert first == again
    assert first != second
    assert first.endswith(f"-{target}-1")
    # Consecutive steps must not share a prefix (sequential names hurt Cloud Tasks).
    assert first[:8] != second[:8]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,500}", task_id_for("weird id/with:chars", 3))
    assert len(task_id_for("x" * 1000, 1)) == 500
