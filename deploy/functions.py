"""Which Cloud Functions exist and how each is sized.

Names and entry points follow the local functions server (`functions/<module>.py` is
deployed as `<module with dashes>`, entry point `<module>`); the publish worker is
deployed once per registered platform adapter as `publish-<key>`, sized by its queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.tasks.queues import QueueSpec, publish_queue_name

WORKER_MODULE = "publish_worker"


@dataclass(frozen=True)
class Sizing:
    memory: str
    timeout_s: int
    cpu: str = "1"
    concurrency: int = 20
    max_instances: int = 20


@dataclass(frozen=True)
class FunctionSpec:
    name: str          # deployed name, also the URL path
    module: str        # functions/<module>.py
    entry_point: str   # the Python function in that module
    public: bool       # True: anyone may call it (it checks the Supabase JWT); False: only the tasks account
    sizing: Sizing


# Every module in functions/ must be listed here: a new function is a decision about
# who may call it and how big it is, not something to guess.
_USER_FACING: dict[str, Sizing] = {
    # `wait` holds a request open for up to 30 s.
    "publish_video": Sizing(memory="512Mi", timeout_s=120),
    # Streams uploads of up to 1 GB into storage and may transcode a video.
    "videos": Sizing(memory="2Gi", timeout_s=900, cpu="2", concurrency=4),
    "oauth": Sizing(memory="512Mi", timeout_s=60),
    "connections": Sizing(memory="512Mi", timeout_s=60),
    "health": Sizing(memory="256Mi", timeout_s=30, cpu="1", concurrency=40, max_instances=5),
    # The composer's catalog: declarations plus a cached creator_info call per TikTok account.
    "platforms": Sizing(memory="512Mi", timeout_s=60),
}
_INTERNAL: dict[str, Sizing] = {
    # Due posts, refreshes, mail and retention; one run a minute.
    "scheduler_tick": Sizing(memory="1Gi", timeout_s=540, concurrency=1, max_instances=3),
}


def deployed_name(module: str) -> str:
    return module.replace("_", "-")


def worker_sizing(queue: QueueSpec) -> Sizing:
    # One upload per instance: a step may stream a whole file and convert it first.
    # The function must outlive Cloud Tasks' dispatch deadline, or a slow upload is cut mid-way.
    return Sizing(memory="2Gi", timeout_s=queue.dispatch_deadline_s, cpu="1", concurrency=1,
                  max_instances=queue.max_concurrent_dispatches)


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
                specs.append(FunctionSpec(f"publish-{key}", module, module, False, worker_sizing(queue)))
        elif module in _USER_FACING:
            specs.append(FunctionSpec(deployed_name(module), module, module, True, _USER_FACING[module]))
        else:
            specs.append(FunctionSpec(deployed_name(module), module, module, False, _INTERNAL[module]))
    return specs
