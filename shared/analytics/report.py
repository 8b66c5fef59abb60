"""How each video did: the latest numbers per platform, totals and engagement rate.

Everything is read through the user's own transaction, so RLS decides what they
see: another user's post is simply not found.

Engagement rate = (likes + comments + shares) / views, over what the platforms
reported; saves are not in it because TikTok and YouTube do not report them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from pydantic import Field

from shared.analytics import history
from shared.analytics.collect import reports_metrics
from shared.db import Database
from shared.errors import NotFound
from shared.platforms import adapter_class
from shared.publishing.requests import IsoTime, Platform
from shared.responses import (
    AnalyticsItem,
    AnalyticsOverview,
    DailyGain,
    MetricTotals,
    PlatformTotals,
    PostMetricsView,
    PostPlatformMetrics,
)
from shared.strict import StrictModel, UserText
from shared.users import User

COUNTS = ("views", "likes", "comments", "shares", "saves")
NO_NUMBERS_YET = ("No numbers yet: platforms report views a few hours after a video is published. "
                  "We check once a day.")

# The latest snapshot of each published target, with its post.
_LATEST = (
    "select t.id as target_id, t.post_id, t.platform, t.platform_url, t.published_at, t.options, p.caption, "
    "p.campaign, "
    "s.views, s.likes, s.comments, s.shares, s.saves, s.watch_time_seconds, s.fetched_at "
    "from publish_targets t join posts p on p.id = t.post_id "
    "left join lateral (select * from analytics_snapshots a where a.target_id = t.id "
    "                   order by a.fetched_at desc limit 1) s on true "
    "where t.state = 'published' "
)


class AnalyticsQuery(StrictModel):
    """Filters of the overview: posts published in [from, to), on a platform, in a campaign."""

    start: IsoTime | None = Field(default=None, alias="from", description="Published at or after (ISO 8601)")
    end: IsoTime | None = Field(default=None, alias="to", description="Published before (ISO 8601)")
    platform: Platform | None = None
    campaign: UserText | None = Field(default=None, max_length=200)
    format: Literal["json", "csv"] = Field(default="json", description="csv: one row per platform post")
    limit: int = Field(default=500, ge=1, le=5000)


def engagement_rate(likes: int | None, comments: int | None, shares: int | None, views: int | None) -> float | None:
    if not views:
        return None
    return round(((likes or 0) + (comments or 0) + (shares or 0)) / views, 4)


def totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sums over platforms; a count no platform reported stays null rather than 0."""
    rows = list(rows)
    summed: dict[str, Any] = {}
    for name in (*COUNTS, "watch_time_seconds"):
        values = [row[name] for row in rows if row.get(name) is not None]
        summed[name] = sum(values) if values else None
    if summed["watch_time_seconds"] is not None:
        summed["watch_time_seconds"] = float(summed["watch_time_seconds"])
    summed["engagement_rate"] = engagement_rate(summed["likes"], summed["comments"], summed["shares"],
                                                summed["views"])
    return summed


def _platform_row(row: Mapping[str, Any]) -> dict[str, Any]:
    counts = {name: int(row[name]) if row[name] is not None else None for name in COUNTS}
    watch = row["watch_time_seconds"]
    return {
        "target_id": str(row["target_id"]),
        "platform": row["platform"],
        "platform_url": row["platform_url"],
        "published_at": row["published_at"].isoformat() if row["published_at"] else None,
        "fetched_at": row["fetched_at"].isoformat() if row["fetched_at"] else None,
        **counts,
        "watch_time_seconds": float(watch) if watch is not None else None,
        "engagement_rate": engagement_rate(counts["likes"], counts["comments"], counts["shares"], counts["views"]),
    }


def why_no_numbers(platform: str, options: Mapping[str, Any] | None) -> str | None:
    """Why a platform post will never have numbers, where that is known (instead of showing zeros)."""
    adapter = adapter_class(platform)
    if not reports_metrics(adapter):
        return (f"{adapter.display_name} does not report how posts did; "
                "see the numbers in the app of the platform it published to.")
    if (options or {}).get("privacy_level") == "SELF_ONLY":
        return f"This {adapter.display_name} post is visible only to you, so it has no audience numbers."
    return None


def post_metrics(db: Database, user: User, post_id: str) -> PostMetricsView:
    """A post's latest numbers per platform with totals, each platform's snapshots and its numbers by age."""
    with db.user(user.claims) as conn:
        post = conn.execute("select id, caption, campaign from posts where id = %s", (post_id,)).fetchone()
        if post is None:
            raise NotFound("We couldn't find that post.", code="post_not_found")
        rows = conn.execute(_LATEST + "and t.post_id = %s order by t.platform", (post_id,)).fetchall()
        points = history.series(conn, [str(row["target_id"]) for row in rows])
    platforms = []
    for row in rows:
        item = _platform_row(row)
        mine = points[str(row["target_id"])]
        item["series"] = [history.point_json(p) for p in mine]
        item["at_age"] = history.at_ages(mine, row["published_at"])
        item["no_numbers_reason"] = why_no_numbers(row["platform"], row["options"])
        platforms.append(item)
    reported = [p for p in platforms if p["fetched_at"] is not None]
    if not platforms:
        message = "This post is not published on any platform yet, so there are no numbers."
    elif not reported:
        message = NO_NUMBERS_YET
    else:
        message = f"Numbers from {len(reported)} of {len(platforms)} platforms."
    return PostMetricsView(
        post_id=str(post["id"]),
        caption=post["caption"],
        campaign=post["campaign"],
        message=message,
        platforms=[PostPlatformMetrics.model_validate(p) for p in platforms],
        totals=MetricTotals.model_validate(totals(platforms)),
    )


_OVERVIEW = (
    _LATEST
    + "and (%(start)s::timestamptz is null or t.published_at >= %(start)s) "
      "and (%(end)s::timestamptz is null or t.published_at < %(end)s) "
      "and (%(platform)s::text is null or t.platform = %(platform)s) "
      "and (%(campaign)s::text is null or p.campaign = %(campaign)s) "
      "order by t.published_at desc, t.platform limit %(limit)s"
)


def _overview_item(row: Mapping[str, Any]) -> dict[str, Any]:
    item = _platform_row(row)
    item.update(post_id=str(row["post_id"]), caption=row["caption"], campaign=row["campaign"])
    return item


def _overview_rows(db: Database, user: User, query: AnalyticsQuery) -> list[dict[str, Any]]:
    with db.user(user.claims) as conn:
        rows = conn.execute(_OVERVIEW, query.model_dump(by_alias=False)).fetchall()
    return [_overview_item(row) for row in rows]


# Per day, what the filtered posts gained (each post's day minus its previous day with a snapshot),
# kept per post and day as snapshots arrive (analytics_daily, migration 20261201060100).
_DAILY = """
select g.day, sum(g.gained_views)::bigint as views, sum(g.gained_likes)::bigint as likes,
       sum(g.gained_comments)::bigint as comments, sum(g.gained_shares)::bigint as shares
  from analytics_daily g
  join publish_targets t on t.id = g.target_id
 where t.state = 'published'
   and (%(start)s::timestamptz is null or t.published_at >= %(start)s)
   and (%(end)s::timestamptz is null or t.published_at < %(end)s)
   and (%(platform)s::text is null or t.platform = %(platform)s)
   and (%(campaign)s::text is null
        or exists (select 1 from posts p where p.id = t.post_id and p.campaign = %(campaign)s))
 group by g.day order by g.day
"""


def daily_series(db: Database, user: User, query: AnalyticsQuery) -> list[dict[str, Any]]:
    """Views, likes, comments and shares gained per day (UTC) by the filtered posts: what a chart draws."""
    with db.user(user.claims) as conn:
        rows = conn.execute(_DAILY, query.model_dump(by_alias=False)).fetchall()
    return [{"day": row["day"].isoformat(), **{k: int(row[k]) if row[k] is not None else None
                                               for k in ("views", "likes", "comments", "shares")}}
            for row in rows]


def overview(db: Database, user: User, query: AnalyticsQuery) -> AnalyticsOverview:
    """A user's published posts in a date range (by platform, campaign) with their latest numbers."""
    items = _overview_rows(db, user, query)
    by_platform: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_platform.setdefault(item["platform"], []).append(item)
    return AnalyticsOverview(
        items=[AnalyticsItem.model_validate(item) for item in items],
        totals=MetricTotals.model_validate(totals(items)),
        by_platform={platform: PlatformTotals.model_validate({"posts": len(rows), **totals(rows)})
                     for platform, rows in sorted(by_platform.items())},
        series=[DailyGain.model_validate(day) for day in daily_series(db, user, query)],
    )


CSV_COLUMNS = ("post_id", "target_id", "platform", "campaign", "caption", "platform_url", "published_at",
               "fetched_at", *COUNTS, "watch_time_seconds", "engagement_rate")


def overview_csv(db: Database, user: User, query: AnalyticsQuery) -> Iterator[str]:
    """The overview as CSV, streamed: a header, then one row per platform post, every post (no row cap).

    Rows come from the database as the client reads them (psycopg's server-side streaming),
    so 100,000 posts cost the memory of one.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writeheader()
    yield flush()
    params = query.model_dump(by_alias=False) | {"limit": None}
    with db.user(user.claims) as conn:
        for row in conn.cursor().stream(_OVERVIEW, params):
            writer.writerow({k: _cell(v) for k, v in _overview_item(row).items()})
            yield flush()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    # A caption starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
