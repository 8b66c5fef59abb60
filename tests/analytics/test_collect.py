"""Daily snapshots over the real pipeline and every platform's sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.core import Fault
from shared.analytics.collect import collect_due
from shared.analytics.settings import AnalyticsSettings
from tests.pipeline.flows import publish
from tests.support.stack import Harness

METRIC_PLATFORMS = ("tiktok", "instagram", "youtube", "facebook")
pytestmark = pytest.mark.usefixtures("only_our_targets_due")


def _snapshots(harness: Harness, target_id: str) -> list[dict]:
    with harness.db.service() as conn:
        rows = conn.execute("select * from analytics_snapshots where target_id = %s order by fetched_at",
                            (target_id,)).fetchall()
    return [dict(row) for row in rows]


def _published(harness: Harness, user, vertical_video, platforms) -> dict[str, str]:
    answer = publish(harness, user, vertical_video, platforms)
    harness.run()
    for platform, target_id in answer["by_platform"].items():
        assert harness.target(target_id)["state"] == "published", platform
    return answer["by_platform"]


def _fault(harness: Harness, platform: str, operation: str, kind: str, **extra) -> None:
    harness.sandbox.sandbox.add_fault(Fault(platform=platform, operation=operation, kind=kind, **extra))


def test_one_snapshot_a_day_per_published_target(harness: Harness, user_a, vertical_video) -> None:
    targets = _published(harness, user_a, vertical_video, METRIC_PLATFORMS)
    published_at = harness.clock.now

    # Platforms report nothing in the first hour: not due yet.
    assert collect_due(harness.db, harness.rt, published_at).collected == 0

    first = collect_due(harness.db, harness.rt, published_at + timedelta(hours=2))
    assert first.by_platform == {p: 1 for p in METRIC_PLATFORMS}, first
    assert first.skipped == first.failed == 0
    for platform in METRIC_PLATFORMS:
        [snapshot] = _snapshots(harness, targets[platform])
        assert snapshot["views"] > 0 and snapshot["likes"] is not None, platform
        assert str(snapshot["user_id"]) == user_a["sub"] and snapshot["platform"] == platform

    # Not twice within 24 h, whatever the number of ticks.
    again = collect_due(harness.db, harness.rt, published_at + timedelta(hours=20))
    assert again.collected == 0 and all(len(_snapshots(harness, targets[p])) == 1 for p in METRIC_PLATFORMS)

    harness.sandbox.sandbox.config["metrics_age_offset_seconds"] = 86400
    next_day = collect_due(harness.db, harness.rt, published_at + timedelta(hours=26, minutes=1))
    assert next_day.collected == len(METRIC_PLATFORMS)
    for platform in METRIC_PLATFORMS:
        earlier, later = _snapshots(harness, targets[platform])
        assert later["views"] >= earlier["views"], platform
        assert later["fetched_at"] - earlier["fetched_at"] >= timedelta(hours=24)


def test_blotato_posts_get_no_snapshots(harness: Harness, user_a, vertical_video) -> None:
    target_id = _published(harness, user_a, vertical_video, ("blotato",))["blotato"]
    summary = collect_due(harness.db, harness.rt, harness.clock.now + timedelta(hours=2))
    assert summary.skipped == 1 and summary.collected == 0   # Blotato exposes no metrics
    assert _snapshots(harness, target_id) == [] and harness.target(target_id)["metrics_due_at"] is None


def test_a_failing_platform_never_stops_the_others(harness: Harness, user_a, vertical_video) -> None:
    targets = _published(harness, user_a, vertical_video, METRIC_PLATFORMS)
    # Due now by the wall clock, which is what the platform's Retry-After is counted from.
    now = datetime.now(UTC)
    with harness.db.service() as conn:
        conn.execute("update publish_targets set metrics_due_at = %s where id = any(%s::uuid[])",
                     (now - timedelta(minutes=1), list(targets.values())))
    _fault(harness, "instagram", "insights", "server_error")   # passing: retried an hour later
    _fault(harness, "youtube", "list", "expired_token")         # needs the user: skipped until tomorrow
    _fault(harness, "facebook", "insights", "rate_limited", params={"minutes": 30})

    summary = collect_due(harness.db, harness.rt, now)
    assert summary.by_platform == {"tiktok": 1}
    assert (summary.failed, summary.skipped, summary.deferred) == (1, 1, 1)
    due = {p: harness.target(t)["metrics_due_at"] for p, t in targets.items()}
    assert due["instagram"] == now + timedelta(minutes=AnalyticsSettings().retry_minutes)
    assert due["youtube"] == now + timedelta(hours=24) == due["tiktok"]
    assert now + timedelta(minutes=29) < due["facebook"] < now + timedelta(minutes=31)

    later = collect_due(harness.db, harness.rt, now + timedelta(hours=1, minutes=1))
    assert later.by_platform == {"instagram": 1, "facebook": 1}


def test_a_rate_limit_stops_that_platform_for_the_run(harness: Harness, user_a, vertical_video) -> None:
    first = _published(harness, user_a, vertical_video, ("facebook",))["facebook"]
    second = publish(harness, user_a, vertical_video, ("facebook",))["by_platform"]["facebook"]
    harness.run()
    _fault(harness, "facebook", "insights", "rate_limited", params={"minutes": 10})
    asked_before = sum(1 for r in harness.adapter_requests if r.endswith("/video_insights"))

    summary = collect_due(harness.db, harness.rt, harness.clock.now + timedelta(hours=2))
    asked = sum(1 for r in harness.adapter_requests if r.endswith("/video_insights")) - asked_before
    assert asked == 1 and summary.deferred == 2 and summary.collected == 0
    assert harness.target(first)["metrics_due_at"] == harness.target(second)["metrics_due_at"]


def test_posts_older_than_the_window_are_left_alone(harness: Harness, user_a, vertical_video) -> None:
    target_id = _published(harness, user_a, vertical_video, ("tiktok",))["tiktok"]
    with harness.db.service() as conn:
        conn.execute("update publish_targets set published_at = published_at - interval '91 days', "
                     "metrics_due_at = now() - interval '1 minute' where id = %s", (target_id,))
    summary = collect_due(harness.db, harness.rt, harness.clock.now + timedelta(hours=2))
    assert summary.skipped == 1 and summary.collected == 0
    assert harness.target(target_id)["metrics_due_at"] is None and _snapshots(harness, target_id) == []


def test_the_minute_tick_collects(harness: Harness, user_a, vertical_video) -> None:
    from shared.scheduler import run_tick

    targets = _published(harness, user_a, vertical_video, ("youtube",))
    harness.clock.advance(hours=2)
    summary = run_tick(harness.app)
    assert summary["analytics"]["by_platform"] == {"youtube": 1}
    assert len(_snapshots(harness, targets["youtube"])) == 1


def test_the_due_query_is_served_by_its_partial_index(db) -> None:
    with db.service() as conn:
        conn.execute("set local enable_seqscan = off")   # a small test table would be scanned anyway
        plan = conn.execute("explain select id from publish_targets where metrics_due_at <= now() "
                            "order by metrics_due_at limit 200").fetchall()
    text = "\n".join(str(next(iter(row.values()))) for row in plan)
    assert "publish_targets_metrics_due_idx" in text, text
