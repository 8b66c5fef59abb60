"""Pipeline health from `publish_events` (written by a trigger on every target state change).

Each function returns one row per platform for events since `since`, read as the
service (they span all users). Latency runs from the target's creation event, or its
scheduled time when later, to its `published` event: both come from the database clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.db.database import Database

_SUCCESS_RATE = """
select platform,
       count(*) filter (where to_state = 'published') as published,
       count(*) filter (where to_state = 'failed') as failed,
       round(count(*) filter (where to_state = 'published')::numeric
             / nullif(count(*) filter (where to_state in ('published', 'failed')), 0), 4) as success_rate
  from publish_events
 where created_at >= %(since)s and to_state in ('published', 'failed')
 group by platform order by platform
"""

_LATENCY = """
with done as (
  select e.platform, e.target_id, e.created_at as published_at,
         greatest(c.created_at, coalesce(t.scheduled_at, c.created_at)) as requested_at
    from publish_events e
    join publish_events c on c.target_id = e.target_id and c.event = 'created'
    join publish_targets t on t.id = e.target_id
   where e.to_state = 'published' and e.created_at >= %(since)s
)
select platform, count(*) as published,
       percentile_cont(0.5) within group (order by extract(epoch from published_at - requested_at)) as p50_seconds,
       percentile_cont(0.95) within group (order by extract(epoch from published_at - requested_at)) as p95_seconds
  from done group by platform order by platform
"""

_RETRIES = """
select platform,
       count(*) as retries,
       count(distinct target_id) as targets_retried,
       count(*) filter (where to_state = 'reconciling') as reconciles
  from publish_events
 where created_at >= %(since)s
   and (event = 'retry_scheduled'
        or (event = 'state_changed' and (detail ->> 'error_class') = 'transient'
            and to_state not in ('failed', 'published')))
 group by platform order by platform
"""

_QUOTA_USE = """
select platform, scope, sum(units) as units, count(distinct target_id) as targets, max(used_at) as last_used_at
  from platform_quota_usage
 where used_at >= %(since)s
 group by platform, scope order by platform, scope
"""


def _rows(db: Database, query: str, since: datetime) -> list[dict[str, Any]]:
    with db.service() as conn:
        return [dict(row) for row in conn.execute(query, {"since": since}).fetchall()]


def success_rate(db: Database, since: datetime) -> list[dict[str, Any]]:
    """Per platform: targets that ended published / failed, and the share published."""
    return _rows(db, _SUCCESS_RATE, since)


def latency(db: Database, since: datetime) -> list[dict[str, Any]]:
    """Per platform: p50 and p95 seconds from request (or scheduled time) to published."""
    return _rows(db, _LATENCY, since)


def retries(db: Database, since: datetime) -> list[dict[str, Any]]:
    """Per platform: transient failures that scheduled a retry, targets affected, reconciles among them."""
    return _rows(db, _RETRIES, since)


def quota_use(db: Database, since: datetime) -> list[dict[str, Any]]:
    """Per platform and budget scope: units taken since `since`."""
    return _rows(db, _QUOTA_USE, since)
