"""Snapshots over time, and numbers at a fixed age so posts of different ages compare fairly.

A post's counts only grow, and platforms are read about once a day, so "views at
72 hours" is read off the two snapshots around that age by linear interpolation
(from zero at the publishing time when the first snapshot is later). A post that has
not reached the age yet, or has no snapshot after it, has no number at that age: it
is left out of comparisons rather than counted as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg import Connection
from psycopg.rows import tuple_row

COUNTED = ("views", "likes", "comments", "shares", "saves", "watch_time_seconds")
# The ages every report normalises to (FR-9 comparisons; documented in docs/analytics.md).
AGES: dict[str, timedelta] = {"24h": timedelta(hours=24), "72h": timedelta(hours=72), "7d": timedelta(days=7)}
COMPARISON_AGE = "72h"


@dataclass(slots=True)
class Outcome:
    """One published platform post with its numbers at the comparison age.

    A plain slotted dataclass with the rate worked out once: a recommendation builds and
    reads thousands of these per request.
    """

    target_id: str
    post_id: str
    platform: str
    connection_id: str
    account: str | None
    published_at: datetime
    caption: str
    hashtags: tuple[str, ...]
    campaign: str | None
    views: float
    engagements: float        # likes + comments + shares
    engagement_rate: float = field(init=False)

    def __post_init__(self) -> None:
        self.engagement_rate = self.engagements / self.views if self.views > 0 else 0.0


def _share(age: timedelta, published_at: datetime, start_at: datetime, end_at: datetime) -> float:
    """How far the age lies between two reads: 0 at `start_at`, 1 at `end_at` (clamped)."""
    span = (end_at - start_at).total_seconds()
    share = 1.0 if span <= 0 else ((published_at + age) - start_at).total_seconds() / span
    return min(1.0, max(0.0, share))


def _between(low: Any, high: Any, share: float) -> float | None:
    if high is None:
        return None
    start = float(low) if low is not None else 0.0
    return round(start + (float(high) - start) * share, 1)


def _interpolate(age: timedelta, published_at: datetime, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None, names: Iterable[str]) -> dict[str, float | None] | None:
    if after is None:
        return None
    share = _share(age, published_at, before["fetched_at"] if before is not None else published_at,
                   after["fetched_at"])
    return {name: _between(before.get(name) if before is not None else None, after.get(name), share)
            for name in names}


def at_ages(points: Sequence[Mapping[str, Any]], published_at: datetime | None) -> dict[str, Any]:
    """{"24h": {...} or None, "72h": ..., "7d": ...} from a target's snapshots (oldest first)."""
    result: dict[str, Any] = {}
    for label, age in AGES.items():
        if published_at is None:
            result[label] = None
            continue
        moment = published_at + age
        before = next((p for p in reversed(points) if p["fetched_at"] <= moment), None)
        after = next((p for p in points if p["fetched_at"] >= moment), None)
        result[label] = _interpolate(age, published_at, before, after, COUNTED)
    return result


def series(conn: Connection[Any], target_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every snapshot of these targets, oldest first (RLS applies: the caller's transaction)."""
    rows = conn.execute(
        "select target_id, fetched_at, views, likes, comments, shares, saves, watch_time_seconds "
        "from analytics_snapshots where target_id = any(%s::uuid[]) order by target_id, fetched_at",
        (target_ids,),
    ).fetchall()
    found: dict[str, list[dict[str, Any]]] = {tid: [] for tid in target_ids}
    for row in rows:
        point = {k: row[k] for k in ("fetched_at", *COUNTED)}
        found[str(row["target_id"])].append(point)
    return found


def point_json(point: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"fetched_at": point["fetched_at"].isoformat()}
    for name in COUNTED:
        value = point.get(name)
        out[name] = None if value is None else (float(value) if name == "watch_time_seconds" else int(value))
    return out


# The two snapshots around the comparison age of every published target, kept per target and age
# as snapshots arrive (analytics_at_age, migration 20261201060000): one row per target.
_OUTCOMES = """
select t.id::text as target_id, t.post_id::text as post_id, t.platform, t.connection_id::text as connection_id,
       c.username as account, t.published_at,
       coalesce(t.caption, p.caption) as caption, coalesce(t.hashtags, p.hashtags) as hashtags, p.campaign,
       m.before_at as b_at, m.before_views as b_views, m.before_engagements as b_eng,
       m.after_at as a_at, m.after_views as a_views, m.after_engagements as a_eng
  from publish_targets t
  join posts p on p.id = t.post_id
  join social_connections c on c.id = t.connection_id
  join analytics_at_age m on m.target_id = t.id and m.age = %(age_label)s
 where t.state = 'published' and t.published_at is not null
   and (%(start)s::timestamptz is null or t.published_at >= %(start)s)
   and (%(end)s::timestamptz is null or t.published_at < %(end)s)
   and (%(platforms)s::text[] is null or t.platform = any(%(platforms)s))
   and (%(connection)s::uuid is null or t.connection_id = %(connection)s)
   and (%(campaign)s::text is null or p.campaign = %(campaign)s)
   and m.after_views is not null
"""


def outcomes(conn: Connection[Any], *, start: datetime | None = None, end: datetime | None = None,
             platforms: list[str] | None = None, connection_id: str | None = None,
             campaign: str | None = None) -> list[Outcome]:
    """Every published target of the caller with its views and engagements at the comparison age."""
    age = AGES[COMPARISON_AGE]
    # Plain tuples: a heavy user has thousands of rows, and building a dict per row shows.
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(_OUTCOMES, {"age_label": COMPARISON_AGE, "start": start, "end": end,
                                       "platforms": platforms, "connection": connection_id,
                                       "campaign": campaign}).fetchall()
    found = []
    for (target_id, post_id, platform, connection, account, published_at, caption, hashtags, campaign,
         b_at, b_views, b_eng, a_at, a_views, a_eng) in rows:
        share = _share(age, published_at, b_at if b_at is not None else published_at, a_at)
        views = _between(b_views if b_at is not None else None, a_views, share)
        engagements = _between(b_eng if b_at is not None else None, a_eng, share)
        found.append(Outcome(target_id, post_id, platform, connection, account, published_at, caption or "",
                             tuple(hashtags or ()), campaign, float(views or 0), float(engagements or 0)))
    return found
