"""Cloud Tasks queue definitions as data: one queue per platform.

The same definitions create the emulator's queues locally and the real queues on
deploy. A publish queue's dispatch rate comes from the platform's per-minute
project-wide quota when the adapter declares one (Blotato: its API key's posts a
minute), so the queue itself keeps us under the platform's app-level rate limit. Every
other publish queue dispatches at Cloud Tasks' own maximum: what starts at a slot
(Instagram's media_publish, TikTok's upload) must start within seconds of it, and
per-account per-minute rules are not applied here (one queue serves every account),
so they are left to the pipeline's quota check. What really bounds a queue at the slot
is how many steps run at once: `max_concurrent_dispatches`, which the deploy caps at
the worker's instances, themselves sized from the database connection budget
(deploy/functions.py).

Cloud Tasks retries only delivery failures (non-2xx, timeouts); the pipeline schedules
its own 1/5/15-minute retries as new delayed tasks, so queue retries stay short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.platforms.base import PlatformAdapter

if TYPE_CHECKING:
    from shared.platforms.registry import Registry

PUBLISH_QUEUE_PREFIX = "publish-"
WEBHOOK_QUEUE = "webhooks"

# Cloud Tasks' own bounds (platform-apis.md §7.1, §7.3).
MIN_DISPATCH_DEADLINE_S = 15
MAX_DISPATCH_DEADLINE_S = 1800
MAX_DISPATCHES_PER_SECOND = 500.0

# A publish queue without a project-wide rate of its platform: Cloud Tasks' maximum (500/s a queue,
# https://cloud.google.com/tasks/docs/quotas), so 2,500 tasks due at one slot are not spread over
# minutes by the queue itself. The concurrency cap (the worker's instances) is the real bound.
DEFAULT_DISPATCHES_PER_SECOND = MAX_DISPATCHES_PER_SECOND
DEFAULT_CONCURRENT_DISPATCHES = 20
DEFAULT_DISPATCH_DEADLINE_S = 600


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


def _registered() -> Registry:
    # Cold start: enqueuing a task (webhooks, the tick) must not load every platform package.
    from shared.platforms.registry import registry

    return registry()


def publish_queue_spec(platform: str, adapter: type[PlatformAdapter] | None = None) -> QueueSpec:
    """A platform's publish queue: its rate from the adapter's quotas, its deadline and concurrency
    from its descriptor (a step that pushes a whole file may take Cloud Tasks' full 30 minutes)."""
    described = _registered().get(platform)
    return QueueSpec(
        name=publish_queue_name(platform),
        max_dispatches_per_second=_dispatch_rate(adapter),
        max_concurrent_dispatches=described.concurrent_dispatches if described else DEFAULT_CONCURRENT_DISPATCHES,
        dispatch_deadline_s=described.dispatch_deadline_s if described else DEFAULT_DISPATCH_DEADLINE_S,
    )


def webhook_queue_spec() -> QueueSpec:
    # One attempt per task; the retries over a day are our own delayed tasks (shared/webhooks/delivery.py).
    # The deadline covers the endpoint's timeout (WEBHOOK_TIMEOUT_SECONDS, at most 60 s).
    return QueueSpec(name=WEBHOOK_QUEUE, max_dispatches_per_second=50.0, max_concurrent_dispatches=50,
                     dispatch_deadline_s=120)


def queue_specs(adapters: Mapping[str, type[PlatformAdapter]] | None = None) -> dict[str, QueueSpec]:
    """All queues by name: one per registered platform (and per key of `adapters`), plus the webhooks'.

    `adapters` (whose quotas set the rates) defaults to every registered platform's adapter.
    """
    registered = _registered()
    if adapters is None:
        adapters = {platform.key: platform.adapter for platform in registered}
    specs = {
        spec.name: spec
        for spec in (
            publish_queue_spec(key, adapters.get(key)) for key in sorted({*registered.keys(), *adapters})
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
