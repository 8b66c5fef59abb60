"""Recommendations and comparisons find the truth the sandbox planted, and withhold on thin data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.engagement import PLANTED
from shared.analytics import history, insights
from shared.analytics.settings import AnalyticsSettings
from tests.conftest import make_user
from tests.support.history import simulate
from tests.support.stack import as_user
from tests.test_openapi import _validate

END = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def rich_user(db):
    user = make_user(db)
    simulate(db, user["sub"], days=60, posts_per_day=12, end=END, snapshot_days=8)
    return user


def _recommend(db, user, **query):
    return insights.recommendations(db, as_user(user), insights.InsightsQuery.model_validate(query),
                                    AnalyticsSettings())


def _in_window(start: int, hour: int) -> bool:
    """The recommended 3-hour window starting at `start` holds `hour`."""
    return (hour - start) % 24 < 3


def test_recommendations_recover_the_planted_best_hour_and_platform(db, rich_user):
    found = _recommend(db, rich_user)
    assert found["posts"] > 600
    assert found["best_platform"]["status"] == "recommended"
    assert found["best_platform"]["value"] == "tiktok"                     # planted: 1.5x engagement
    assert found["best_platform"]["evidence"]["p_value"] < 0.05
    for network in ("tiktok", "instagram", "youtube", "facebook"):
        hour = found["platforms"][network]["best_hour"]
        assert hour["status"] == "recommended", (network, hour)
        assert _in_window(int(hour["value"]), PLANTED.best_hour_utc), (network, hour)
        assert hour["evidence"]["posts"] >= 20 and hour["evidence"]["effect"] > 0
    caption = found["platforms"]["tiktok"]["caption_length"]
    assert caption["status"] == "recommended" and caption["value"].startswith("short")


def test_recommended_hours_are_given_in_the_users_time_zone(db, rich_user):
    found = _recommend(db, rich_user, timezone="America/New_York", platform="instagram")
    hour = found["platforms"]["instagram"]["best_hour"]
    offset = int(END.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).utcoffset().total_seconds()
                 // 3600)
    # The planted hour in New York time lands in the window, give or take the window's edge.
    local = (PLANTED.best_hour_utc + offset) % 24
    assert _in_window(int(hour["value"]), local) or _in_window(int(hour["value"]), (local + 1) % 24)
    assert list(found["platforms"]) == ["instagram"]


def test_thin_history_withholds_every_recommendation(db):
    user = make_user(db)
    simulate(db, user["sub"], days=8, posts_per_day=1, end=END, snapshot_days=8, seed=3)
    found = _recommend(db, user)
    assert 3 <= found["posts"] <= 6          # the last days' posts are not 72 hours old yet
    assert found["best_platform"]["status"] == "withheld"
    assert "Not enough data yet" in found["best_platform"]["reason"]
    for per_platform in found["platforms"].values():
        for verdict in ("best_hour", "best_weekday", "caption_length", "hashtag_count", "hashtags"):
            assert per_platform[verdict]["status"] == "withheld"


def test_comparison_names_the_best_platform_over_a_date_range(db, rich_user):
    result = insights.compare(db, as_user(rich_user), insights.InsightsQuery.model_validate(
        {"from": (END - timedelta(days=30)).isoformat()}), AnalyticsSettings())
    rows = {row["platform"]: row for row in result["platforms"]}
    assert set(rows) == {"tiktok", "instagram", "youtube", "facebook"}
    assert rows["tiktok"]["engagement_rate"] > rows["facebook"]["engagement_rate"]
    assert result["best_platform"]["status"] == "recommended" and result["best_platform"]["value"] == "tiktok"


def test_numbers_at_an_age_interpolate_between_snapshots():
    published = datetime(2026, 1, 1, tzinfo=UTC)
    points = [{"fetched_at": published + timedelta(hours=h), "views": v, "likes": None, "comments": 0, "shares": 0,
               "saves": None, "watch_time_seconds": None} for h, v in ((48, 200), (96, 400))]
    ages = history.at_ages(points, published)
    assert ages["24h"]["views"] == 100.0          # from zero at publishing to 200 at 48 h
    assert ages["72h"]["views"] == 300.0
    assert ages["7d"] is None                      # not read that late yet
    assert ages["72h"]["likes"] is None            # never reported stays unknown, not zero


def test_unknown_platform_filter_is_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="use one of: .*tiktok"):
        insights.InsightsQuery.model_validate({"platform": "myspace"})


def test_routes_answer_through_the_functions_server(db, rich_user, functions_server_with_auth):
    from tests.support.stack import bearer

    base = f"{functions_server_with_auth.url}/analytics"
    found = httpx.get(f"{base}/recommendations", params={"platform": "tiktok"}, headers=bearer(rich_user),
                      timeout=60)
    assert found.status_code == 200, found.text
    assert found.json()["platforms"]["tiktok"]["best_hour"]["status"] == "recommended"
    _validate(found.json(), "RecommendationsView")
    compared = httpx.get(f"{base}/compare", headers=bearer(rich_user), timeout=60)
    assert compared.status_code == 200 and compared.json()["best_platform"]["value"] == "tiktok"
    _validate(compared.json(), "ComparisonView")
    bad = httpx.get(f"{base}/recommendations", params={"timezone": "Mars/Olympus"}, headers=bearer(rich_user),
                    timeout=30)
    assert bad.status_code == 422


def test_publish_at_best_takes_the_next_recommended_window(harness, rich_user, vertical_video):
    from shared.publishing.requests import PublishRequest
    from shared.publishing.service import create_post

    video_id = harness.video(rich_user, vertical_video)
    body = PublishRequest.model_validate({"video_id": video_id, "caption": "Fresh beans", "timezone": "UTC",
                                          "targets": [{"platform": "instagram", "publish_at": "best"}]})
    answer, _ = create_post(harness.rt, as_user(rich_user), body)
    target = harness.target(answer["targets"][0]["target_id"])
    slot = target["scheduled_at"].astimezone(UTC)
    assert target["state"] == "scheduled" and slot > harness.clock.now
    assert _in_window(slot.hour, PLANTED.best_hour_utc) and slot.minute == 0
    assert slot - harness.clock.now <= timedelta(days=1)


def test_publish_at_best_without_enough_history_asks_for_a_time(harness, user_a, vertical_video):
    from shared.http import ApiError
    from shared.publishing.requests import PublishRequest
    from shared.publishing.service import create_post
    from tests.support.edge import as_answered

    harness.connect(user_a, "instagram")
    video_id = harness.video(user_a, vertical_video)
    body = PublishRequest.model_validate({"video_id": video_id, "caption": "Fresh beans",
                                          "targets": [{"platform": "instagram", "publish_at": "best"}]})
    with pytest.raises(ApiError) as refused, as_answered():
        create_post(harness.rt, as_user(user_a), body)
    assert refused.value.status == 422 and refused.value.code == "no_best_time"
    assert "choose a time" in refused.value.message
