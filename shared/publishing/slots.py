"""Scheduled targets get their Cloud Tasks task when they are scheduled, due at their slot.

Cloud Tasks then delivers each post at its minute, however many share it, and the
minute tick is only the safety net for a task that got lost (it claims a scheduled
target once it is overdue by `Runtime.stale_after_seconds`). Cloud Tasks accepts a
schedule time at most 30 days (720 h) ahead
(https://cloud.google.com/tasks/docs/quotas, "Maximum schedule time for a task";
https://cloud.google.com/tasks/docs/samples/cloud-tasks-app-create-task uses the same
MAX_SCHEDULE_LIMIT), which is also how far ahead users may schedule
(`requests.MAX_SCHEDULE_AHEAD`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shared.log import get_logger
from shared.publishing import targets
from shared.publishing.runtime import Runtime
from shared.publishing.states import State

log = get_logger(__name__)

# Cloud Tasks refuses a schedule time beyond 720 h; a slot right at that edge is left to the tick.
CLOUD_TASKS_MAX_AHEAD = timedelta(hours=720) - timedelta(minutes=5)


def hand_to_queue(rt: Runtime, targets: Iterable[dict[str, Any]]) -> None:
    """Create the slot task of each scheduled target (rows with id, platform, state, task_seq, next_attempt_at).

    A failed enqueue is logged, never raised: the post is stored and the tick claims it
    once it is overdue.
    """
    now = rt.clock()
    for target in targets:
        if target["state"] != State.SCHEDULED:
            continue
        slot = target["next_attempt_at"]
        if slot - now > CLOUD_TASKS_MAX_AHEAD:
            log.info("slot beyond Cloud Tasks' horizon; the tick enqueues it", target_id=str(target["id"]))
            continue
        try:
            rt.enqueue(str(target["id"]), target["platform"], target["task_seq"], _seconds_until(slot, now))
        except Exception:
            log.exception("slot task not created; the tick enqueues it late", target_id=str(target["id"]))


def reschedule(rt: Runtime, target_id: str) -> None:
    """After an edit: bump `task_seq` (the old task becomes a no-op) and create the task for the slot now set."""
    with rt.db.service() as conn:
        row = targets.bump_scheduled(conn, target_id)
    if row is not None:
        hand_to_queue(rt, [row])


def _seconds_until(slot: datetime, now: datetime) -> float:
    return max(0.0, (slot - now).total_seconds())
