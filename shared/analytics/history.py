"""Snapshots over time, and numbers at a fixed age so posts of different ages compare fairly.

A post's counts only grow, and platforms are read about once a day, so "views at
72 hours" is read off the two snapshots around that age by linear interpolation
(from zero at the publishing time when the first snapshot is later). A post that has
not reached the age yet, or has no snapshot after it, has no number at that age: it
is left out of comparisons rather than counted as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from psycopg import Connection
from psycopg.rows import tuple_row

COUNTED = ("views", "likes", "comments", "shares", "saves", "watch_time_seconds")
# The ages every report normalises to (FR-9 comparisons; documented in docs/analytics.md).
AGES: dict[str, timedelta] = {"24h": timedelta(hours=24), "72h": timedelta(hours=72), "7d": timedelta(days=7)}
COMPARISON_AGE = "72h"


@dataclass(frozen=True)
class Outcome:
    """One published platform post with its numbers at the comparison age."""

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

    @cached_property      # read for every test a recommendation runs over thousands of posts
    def engagement_rate(self) -> float:
        return self.engagements / self.views if self.views > 0 else 0.0


def _interpolate(age: timedelta, published_at: datetime, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None, names: Iterable[str]) -> dict[str, float | None] | None:
    if after is None:
        return None
    start_at = before["fetched_at"] if before is not None else published_at
    span = (after["fetched_at"] - start_at).total_seconds()
    share = 1.0 if span <= 0 else ((published_at + age) - start_at).total_seconds() / span
    share = min(1.0, max(0.0, share))
    values: dict[str, float | None] = {}
    for name in names:
        high = after.get(name)
        if high is None:
            values[name] = None
            continue
        low = float(before[name]) if before is not None and before.get(name) is not None else 0.0
        values[name] = round(low + (float(high) - low) * share, 1)
    return values


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
        before = {"fetched_at": b_at, "views": b_views, "engagements": b_eng} if b_at is not None else None
        after = {"fetched_at": a_at, "views": a_views, "engagements": a_eng}
        values = _interpolate(age, published_at, before, after, ("views", "engagements"))
        assert values is not None
        found.append(Outcome(
            target_id=target_id, post_id=post_id, platform=platform, connection_id=connection, account=account,
            published_at=published_at, caption=caption or "", hashtags=tuple(hashtags or ()), campaign=campaign,
            views=float(values["views"] or 0), engagements=float(values["engagements"] or 0),
        ))
    return found
