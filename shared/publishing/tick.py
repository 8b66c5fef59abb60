"""The scheduler tick (Cloud Scheduler, every minute): the safety net of the pipeline.

A scheduled target's task is created when it is scheduled, due at its slot
(`shared.publishing.slots`), so the tick does not race those tasks at the slot: it
claims a scheduled target only once it is overdue by the stale limit, like any other
runnable target whose task went missing (lost task, crash between commit and enqueue, expired
lease of a killed worker), including targets still asking a platform whether a
call took effect (`reconciling`) and published targets whose link is still to be
read. Each re-enqueue bumps `task_seq`, so any older task still in flight becomes
a no-op.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from shared.log import get_logger
from shared.publishing import targets
from shared.publishing.runtime import Runtime

log = get_logger(__name__)


def claim_due(rt: Runtime, now: datetime, limit: int = 1000) -> list[dict[str, Any]]:
    """Claim stranded targets (overdue by the stale limit; index scans) and bump their task sequence."""
    with rt.db.service() as conn:
        return targets.requeue_stranded(conn, now=now, stale=now - timedelta(seconds=rt.stale_after_seconds),
                                        limit=limit)


# Claims per round, enqueue calls in flight, and how long one tick may keep draining.
# Cloud Scheduler fires every minute, so a tick that drains a spike stops well before the next.
ROUND_LIMIT = 1000
ENQUEUE_CONCURRENCY = 32
DRAIN_SECONDS = 45.0


def enqueue_due(rt: Runtime, now: datetime | None = None, limit: int = ROUND_LIMIT, *,
                concurrency: int = ENQUEUE_CONCURRENCY, drain_seconds: float = DRAIN_SECONDS) -> int:
    """Claim and enqueue in rounds until nothing is due (or the tick's time is up).

    10,000 posts due at 09:00 are ten rounds of one claim each, their enqueue calls
    `concurrency` at a time (each is one RPC to Cloud Tasks), instead of 1,000 per minute
    one by one. A round's claim bumps `task_seq`, so a row is never claimed twice; what an
    enqueue loses (an RPC error) the next tick finds stale and claims again.
    """
    now = now or rt.clock()
    started = time.monotonic()
    total = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tick-enqueue") as pool:
        while True:
            claimed = claim_due(rt, now, limit)
            failures = sum(1 for ok in pool.map(lambda row: _enqueue_one(rt, row), claimed) if not ok)
            if failures:
                log.warning("tick enqueue failed; the next tick re-enqueues", failed=failures)
            total += len(claimed)
            if len(claimed) < limit or time.monotonic() - started > drain_seconds:
                return total


def _enqueue_one(rt: Runtime, row: dict[str, Any]) -> bool:
    try:
        rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])
        return True
    except Exception:
        log.exception("enqueue failed", target_id=str(row["id"]))
        return False
