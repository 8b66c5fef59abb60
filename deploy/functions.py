"""Which Cloud Functions exist, who runs them, and how each is sized.

Names and entry points follow the local functions server (`functions/<module>.py` is
deployed as `<module with dashes>`, entry point `<module>`); the publish worker is
deployed once per registered platform adapter as `publish-<key>`, sized by its queue.

Database connections are budgeted once: every instance holds up to `db_pool`
connections, so `max_instances x db_pool` summed over all functions must stay within
DEPLOY_DB_MAX_CONNECTIONS (what the Supabase pooler allows the project). The publish workers
(one step per instance, and at a slot thousands of steps are due at once) may use up to
DEPLOY_WORKER_DB_SHARE of it, the other functions the rest (and what the workers leave). When
the wanted sizes do not fit their part, every function's instance cap in it shrinks in the same
proportion. A worker's instance cap is also its queue's concurrency (deploy/plan.py), so the
publish queues never dispatch more at once than the database can serve.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from shared.tasks.queues import QueueSpec, publish_queue_name

WORKER_MODULE = "publish_worker"
# The part of the database connection budget the publish workers may use (DEPLOY_WORKER_DB_SHARE).
DEFAULT_WORKER_DB_SHARE = 0.5


@dataclass(frozen=True)
class Sizing:
    memory: str
    timeout_s: int
    cpu: str = "1"
    concurrency: int = 20
    max_instances: int = 20
    # Connections one instance may hold (DB_POOL_MAX): a request holds one at a time, so
    # more than `concurrency` is waste.
    db_pool: int = 5


@dataclass(frozen=True)
class FunctionSpec:
    name: str          # deployed name, also the URL path
    module: str        # functions/<module>.py
    entry_point: str   # the Python function in that module
    role: str          # api (public, checks its own callers) | worker | tick (private: tasks account only)
    sizing: Sizing

    @property
    def public(self) -> bool:
        return self.role == "api"


# Every module in functions/ must be listed here: a new function is a decision about
# who may call it and how big it is, not something to guess.
_USER_FACING: dict[str, Sizing] = {
    # `wait` holds a request open for up to 30 s.
    "publish_video": Sizing(memory="512Mi", timeout_s=120),
    # Takes uploads of up to 32 MiB (Cloud Run's request limit) and may transcode a video.
    "videos": Sizing(memory="2Gi", timeout_s=900, cpu="2", concurrency=4, db_pool=4),
    "oauth": Sizing(memory="512Mi", timeout_s=60),
    "connections": Sizing(memory="512Mi", timeout_s=60),
    # Waits on Gemini (20 s timeout, retries) before the local writer answers.
    "captions": Sizing(memory="512Mi", timeout_s=120, db_pool=4),
    "health": Sizing(memory="256Mi", timeout_s=30, cpu="1", concurrency=40, max_instances=5, db_pool=2),
    "webhooks": Sizing(memory="512Mi", timeout_s=60, db_pool=4),
    "me": Sizing(memory="256Mi", timeout_s=30, db_pool=2),
    # Recommendations and A/B verdicts run scipy over a user's whole history.
    "analytics": Sizing(memory="1Gi", timeout_s=60, db_pool=4),
    # The operator's alert values; a handful of aggregate queries.
    "ops": Sizing(memory="512Mi", timeout_s=60, concurrency=4, max_instances=2, db_pool=2),
    # The composer's catalog: declarations plus a cached creator_info call per TikTok account.
    "platforms": Sizing(memory="512Mi", timeout_s=60, db_pool=4),
}
_INTERNAL: dict[str, Sizing] = {
    # Due posts, refreshes, mail and retention; one run a minute.
    "scheduler_tick": Sizing(memory="1Gi", timeout_s=540, concurrency=1, max_instances=3, db_pool=3),
    # queue `webhooks`: one delivery attempt per task.
    "webhook_delivery": Sizing(memory="512Mi", timeout_s=120, concurrency=20, max_instances=20, db_pool=4),
}


def deployed_name(module: str) -> str:
    return module.replace("_", "-")


def worker_sizing(queue: QueueSpec) -> Sizing:
    # One upload per instance: a step may stream a whole file and convert it first.
    # The function must outlive Cloud Tasks' dispatch deadline, or a slow upload is cut mid-way.
    # No more instances than the queue dispatches in a minute (Blotato's project rate: 10), so a
    # rate-capped queue leaves its share of the connections to the others.
    per_minute = max(1, math.ceil(queue.max_dispatches_per_second * 60))
    return Sizing(memory="2Gi", timeout_s=queue.dispatch_deadline_s, cpu="1", concurrency=1,
                  max_instances=min(queue.max_concurrent_dispatches, per_minute), db_pool=2)


def function_specs(modules: list[str], adapter_keys: list[str], queues: Mapping[str, QueueSpec]) -> list[FunctionSpec]:
    """Every function to deploy. Raises ValueError for a module nobody sized."""
    specs: list[FunctionSpec] = []
    unknown = sorted(set(modules) - set(_USER_FACING) - set(_INTERNAL) - {WORKER_MODULE})
    if unknown:
        raise ValueError(
            f"functions/{unknown[0]}.py has no deploy settings; add it to deploy/functions.py "
            "(public or internal, memory, timeout)."
        )
    for module in modules:
        if module == WORKER_MODULE:
            for key in sorted(adapter_keys):
                queue = queues[publish_queue_name(key)]
                specs.append(FunctionSpec(f"publish-{key}", module, module, "worker", worker_sizing(queue)))
        elif module in _USER_FACING:
            specs.append(FunctionSpec(deployed_name(module), module, module, "api", _USER_FACING[module]))
        else:
            specs.append(FunctionSpec(deployed_name(module), module, module, "tick", _INTERNAL[module]))
    return specs


def connections_needed(specs: list[FunctionSpec]) -> int:
    return sum(spec.sizing.max_instances * spec.sizing.db_pool for spec in specs)


def _floor(specs: list[FunctionSpec]) -> int:
    """Connections one instance of each function holds."""
    return sum(spec.sizing.db_pool for spec in specs)


def fit_connection_budget(specs: list[FunctionSpec], budget: int,
                          worker_share: float = DEFAULT_WORKER_DB_SHARE) -> list[FunctionSpec]:
    """The same functions with instance caps scaled so that all pools together fit `budget`: the publish
    workers within `worker_share` of it, the others within the rest plus what the workers do not need.

    Raises ValueError when even one instance of each function needs more than `budget`.
    """
    floor = _floor(specs)
    if floor > budget:
        raise ValueError(
            f"DEPLOY_DB_MAX_CONNECTIONS={budget} is too small: one instance of each of the {len(specs)} functions "
            f"already needs {floor} database connections."
        )
    workers = [spec for spec in specs if spec.role == "worker"]
    others = [spec for spec in specs if spec.role != "worker"]
    worker_budget = min(connections_needed(workers), math.floor(budget * worker_share), budget - _floor(others))
    fitted_workers = _fit(workers, max(worker_budget, _floor(workers)))
    fitted_others = _fit(others, budget - connections_needed(fitted_workers))
    by_name = {spec.name: spec for spec in (*fitted_workers, *fitted_others)}
    fitted = [by_name[spec.name] for spec in specs]
    assert connections_needed(fitted) <= budget
    return fitted


def _fit(specs: list[FunctionSpec], budget: int) -> list[FunctionSpec]:
    """`specs` with instance caps scaled in one proportion so their pools fit `budget` (>= their floor)."""
    floor = _floor(specs)
    wanted = connections_needed(specs)
    if wanted <= budget:
        return specs
    # Every function keeps one instance; the instances above that shrink in one proportion,
    # and what rounding down leaves over goes to the largest remainders first.
    share = (budget - floor) / (wanted - floor)
    exact = [(spec.sizing.max_instances - 1) * share for spec in specs]
    counts = [1 + math.floor(x) for x in exact]
    spare = budget - sum(n * spec.sizing.db_pool for n, spec in zip(counts, specs, strict=True))
    for i in sorted(range(len(specs)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True):
        pool = specs[i].sizing.db_pool
        if pool <= spare and counts[i] < specs[i].sizing.max_instances:
            counts[i] += 1
            spare -= pool
    fitted = [dataclasses.replace(spec, sizing=dataclasses.replace(spec.sizing, max_instances=n))
              for n, spec in zip(counts, specs, strict=True)]
    assert connections_needed(fitted) <= budget
    return fitted
