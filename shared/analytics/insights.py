"""What works for this user: platform comparison, recommendations, and their filters.

Everything reads through the user's transaction (RLS) and compares posts at the
same age (history.COMPARISON_AGE), so a week-old post is never weighed against a
day-old one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator

from shared.analytics import history, recommend
from shared.analytics.report import engagement_rate
from shared.analytics.settings import AnalyticsSettings
from shared.analytics.stats import compare_rates, midpoint
from shared.db import Database
from shared.errors import NotFound
from shared.platforms import adapters
from shared.publishing.requests import IsoTime, _zone
from shared.responses import ComparedPlatform, ComparisonView, RecommendationsView, Verdict
from shared.strict import StrictModel, UserText
from shared.users import User


class InsightsQuery(StrictModel):
    """Which posts the comparison or recommendations look at."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: IsoTime | None = Field(default=None, alias="from", description="Published at or after (ISO 8601)")
    end: IsoTime | None = Field(default=None, alias="to", description="Published before (ISO 8601)")
    platform: str | None = Field(default=None, description="A platform network: tiktok covers TikTok and Blotato")
    connection_id: UUID | None = Field(default=None, description="One connected account")
    campaign: UserText | None = Field(default=None, max_length=200)
    timezone: UserText = Field(default="UTC", max_length=64, description="Hours and weekdays are given in this zone")
    post_id: UUID | None = Field(default=None, description="compare: one video across its platforms")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)

    @field_validator("platform")
    @classmethod
    def _network(cls, value: str | None) -> str | None:
        if value is None:
            return None
        known = sorted(networks())
        if value not in known:
            raise ValueError(f"unknown platform '{value}'; use one of: {', '.join(known)}")
        return value


def networks() -> dict[str, list[str]]:
    """Platform network -> the adapter keys that publish there ("tiktok": tiktok, blotato)."""
    found: dict[str, list[str]] = defaultdict(list)
    for key, cls in adapters().items():
        found[cls.network].append(key)
    return dict(found)


def _thresholds(settings: AnalyticsSettings) -> recommend.Thresholds:
    return recommend.Thresholds(settings.recommend_min_posts, settings.recommend_min_group_posts,
                                settings.significance)


def _outcomes(db: Database, user: User, query: InsightsQuery) -> list[history.Outcome]:
    keys = networks()[query.platform] if query.platform else None
    with db.user(user.claims) as conn:
        return history.outcomes(conn, start=query.start, end=query.end, platforms=keys,
                                connection_id=str(query.connection_id) if query.connection_id else None,
                                campaign=query.campaign)


def recommendations(db: Database, user: User, query: InsightsQuery,
                    settings: AnalyticsSettings) -> RecommendationsView:
    found = _outcomes(db, user, query)
    return recommend.recommendations(found, query.timezone, _thresholds(settings), history.COMPARISON_AGE)


def compare(db: Database, user: User, query: InsightsQuery, settings: AnalyticsSettings) -> ComparisonView:
    """Platforms side by side: for one video (post_id) or over the filtered date range."""
    if query.post_id is not None:
        return _compare_post(db, user, str(query.post_id), settings)
    found = _outcomes(db, user, query)
    by_network: dict[str, list[history.Outcome]] = defaultdict(list)
    for outcome in found:
        by_network[recommend.network_of(outcome.platform)].append(outcome)
    rows = []
    for network, items in sorted(by_network.items()):
        views = sum(o.views for o in items)
        engagements = sum(o.engagements for o in items)
        rows.append({"platform": network, "posts": len(items), "views": round(views),
                     "median_views": round(midpoint([o.views for o in items]) or 0),
                     "engagements": round(engagements),
                     "engagement_rate": round(engagements / views, 4) if views else None})
    best = recommend.best_platform(found, _thresholds(settings))
    return ComparisonView(compared_at_age=history.COMPARISON_AGE,
                          platforms=[ComparedPlatform.model_validate(row) for row in rows], best_platform=best)


def _compare_post(db: Database, user: User, post_id: str, settings: AnalyticsSettings) -> ComparisonView:
    with db.user(user.claims) as conn:
        post = conn.execute("select id from posts where id = %s", (post_id,)).fetchone()
        if post is None:
            raise NotFound("We couldn't find that post.", code="post_not_found")
        targets = conn.execute("select id, platform, published_at from publish_targets "
                               "where post_id = %s and state = 'published'", (post_id,)).fetchall()
        points = history.series(conn, [str(t["id"]) for t in targets])
    rows: list[dict[str, Any]] = []
    for target in targets:
        at = history.at_ages(points[str(target["id"])], target["published_at"])[history.COMPARISON_AGE]
        latest = points[str(target["id"])][-1] if points[str(target["id"])] else None
        source = at or latest
        views = int(source["views"] or 0) if source else 0
        engagements = int(sum(source.get(k) or 0 for k in ("likes", "comments", "shares"))) if source else 0
        rows.append({"platform": recommend.network_of(target["platform"]), "views": views,
                     "engagements": engagements, "shares": int(source["shares"] or 0) if source else 0,
                     "engagement_rate": engagement_rate(engagements, 0, 0, views),
                     "at_age": history.COMPARISON_AGE if at else ("latest" if latest else None)})
    rows.sort(key=lambda r: -(r["engagement_rate"] or 0))
    need = settings.compare_min_views
    short = [r["platform"] for r in rows if r["views"] < need]
    if len(rows) < 2:
        best = Verdict(status="withheld", reason="This video is published on one platform only.")
    elif short or any(r["at_age"] != history.COMPARISON_AGE for r in rows):
        best = Verdict(status="withheld",
                       reason=f"Not enough data yet: every platform needs {need} views at "
                              f"{history.COMPARISON_AGE}; still short: {', '.join(short) or 'waiting for the age'}.")
    else:
        first, second = rows[0], rows[1]
        evidence = compare_rates(first["engagements"], first["views"], second["engagements"], second["views"],
                                 settings.significance)
        best = (Verdict(status="recommended", value=first["platform"], evidence=evidence.as_model())
                if evidence.significant else
                Verdict(status="withheld", reason=f"{first['platform']} is ahead, but not clearly enough yet.",
                        evidence=evidence.as_model()))
    return ComparisonView(post_id=post_id, compared_at_age=history.COMPARISON_AGE,
                          platforms=[ComparedPlatform.model_validate(row) for row in rows], best_platform=best)
