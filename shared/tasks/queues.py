"""Cloud Tasks queue definitions as data: one queue per platform.

The same definitions create the emulator's queues locally and the real queues on
deploy. A publish queue's dispatch rate comes from the platform's per-minute
project-wide quota when the adapter declares one, so the queue itself keeps us under
the platform's app-level rate limit. Per-account per-minute rules are not applied
here: one queue serves every account, so they are left to the pipeline's quota check.

Cloud Tasks retries only delivery failures (non-2xx, timeouts); the pipeline schedules
its own 1/5/15-minute retries as new delayed tasks, so queue retries stay short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.platforms.base import PlatformAdapter

PUBLISH_QUEUE_PREFIX = "publish-"
WEBHOOK_QUEUE = "webhooks"

# Every platform we ship, so deploy creates their queues even if an adapter fails to import.
KNOWN_PLATFORMS = ("tiktok", "blotato", "instagram", "facebook", "youtube")

# Cloud Tasks' own bounds (platform-apis.md §7.1, §7.3).
MIN_DISPATCH_DEADLINE_S = 15
MAX_DISPATCH_DEADLINE_S = 1800
MAX_DISPATCHES_PER_SECOND = 500.0

DEFAULT_DISPATCHES_PER_SECOND = 5.0
DEFAULT_CONCURRENT_DISPATCHES = 20
DEFAULT_DISPATCH_DEADLINE_S = 600

# A step that pushes the whole file (YouTube resumable upload, TikTok FILE_UPLOAD)
# can take the full 30 minutes Cloud Tasks allows; others only start a pull or poll.
_DISPATCH_DEADLINE_S = {"youtube": 1800, "tiktok": 1800, "facebook": 900}
# Long uploads hold memory and bandwidth for minutes: fewer at once.
_CONCURRENT_DISPATCHES = {"youtube": 5, "tiktok": 10}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    min_backoff_s: int = 10
    max_backoff_s: int = 300
    max_doublings: int = 4


@dataclass(frozen=True)
class QueueSpec:
    name: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    dispatch_deadline_s: int
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def resource_name(self, project: str, location: str) -> str:
        return f"projects/{project}/locations/{location}/queues/{self.name}"

    def as_queue(self, project: str, location: str) -> dict[str, Any]:
        """The `google.cloud.tasks_v2.Queue` fields (dict form) for create/update_queue."""
        return {
            "name": self.resource_name(project, location),
            "rate_limits": {
                "max_dispatches_per_second": self.max_dispatches_per_second,
                "max_concurrent_dispatches": self.max_concurrent_dispatches,
            },
            "retry_config": {
                "max_attempts": self.retry.max_attempts,
                "min_backoff": {"seconds": self.retry.min_backoff_s},
                "max_backoff": {"seconds": self.retry.max_backoff_s},
                "max_doublings": self.retry.max_doublings,
            },
        }


def publish_queue_name(platform: str) -> str:
    return f"{PUBLISH_QUEUE_PREFIX}{platform}"


def _dispatch_rate(adapter: type[PlatformAdapter] | None) -> float:
    if adapter is None:
        return DEFAULT_DISPATCHES_PER_SECOND
    per_minute = [q.limit for q in adapter.quotas if q.window == "per_minute" and q.scope == "project"]
    if not per_minute:
        return DEFAULT_DISPATCHES_PER_SECOND
    return min(MAX_DISPATCHES_PER_SECOND, max(min(per_minute) / 60.0, 0.01))


def publish_queue_spec(platform: str, adapter: type[PlatformAdapter] | None = None) -> QueueSpec:
    return QueueSpec(
        name=publish_queue_name(platform),
        max_dispatches_per_second=_dispatch_rate(adapter),
        max_concurrent_dispatches=_CONCURRENT_DISPATCHES.get(platform, DEFAULT_CONCURRENT_DISPATCHES),
        dispatch_deadline_s=_DISPATCH_DEADLINE_S.get(platform, DEFAULT_DISPATCH_DEADLINE_S),
    )


def webhook_queue_spec() -> QueueSpec:
    # One attempt per task; the retries over a day are our own delayed tasks (shared/webhooks/delivery.py).
    # The deadline covers the endpoint's timeout (WEBHOOK_TIMEOUT_SECONDS, at most 60 s).
    return QueueSpec(name=WEBHOOK_QUEUE, max_dispatches_per_second=50.0, max_concurrent_dispatches=50,
                     dispatch_deadline_s=120)


def queue_specs(adapters: Mapping[str, type[PlatformAdapter]] | None = None) -> dict[str, QueueSpec]:
    """All queues by name. `adapters` defaults to every registered platform adapter."""
    if adapters is None:
        from shared.platforms import adapters as registered

        adapters = registered()
    specs = {
        spec.name: spec
        for spec in (
            publish_queue_spec(key, adapters.get(key)) for key in sorted({*KNOWN_PLATFORMS, *adapters})
        )
    }
    # No queue for the tick: Cloud Scheduler calls it directly (deploy/plan.py lists an old
    # `scheduler` queue as left behind).
    specs[WEBHOOK_QUEUE] = webhook_queue_spec()
    return specs


def queue_spec(name: str) -> QueueSpec:
    """The definition of queue `name`; unknown publish queues get the defaults."""
    specs = queue_specs()
    if name in specs:
        return specs[name]
    if name.startswith(PUBLISH_QUEUE_PREFIX):
        return publish_queue_spec(name.removeprefix(PUBLISH_QUEUE_PREFIX))
    raise KeyError(f"unknown task queue {name!r}")
