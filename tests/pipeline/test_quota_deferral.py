"""Budgets: a full platform quota defers the target to the reset time, says when, then publishes.

YouTube's quotaExceeded waits for midnight Pacific; Instagram's full content_publishing_limit
waits until 24 h after the oldest post in the window; and our own count in
`platform_quota_usage` defers a target before the platform is called at all (NFR-6).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.publishing import quota
from tests.pipeline.flows import publish, target_request
from tests.support.stack import Harness


def _next_pacific_midnight(now: datetime) -> datetime:
    local = now.astimezone(quota.PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def _assert_deferred_until(harness: Harness, target_id: str, retry_at: datetime) -> dict:
    target = harness.target(target_id)
    assert target["state"] == "deferred", (target["state"], target["user_message"])
    assert target["error_class"] == "quota"
    assert target["next_attempt_at"] == retry_at
    assert target["user_message"].endswith(f"It will publish on {quota.describe(retry_at)}.")
    return target


def test_youtube_quota_exceeded_waits_for_midnight_pacific(harness: Harness, user_a, vertical_video) -> None:
    answer = publish(harness, user_a, vertical_video, ["youtube"],
                     before=lambda: harness.fault("youtube", "insert", "quota"))
    target_id = answer["by_platform"]["youtube"]
    midnight = _next_pacific_midnight(harness.clock.now)
    harness.run(until=midnight - timedelta(seconds=1))
    target = _assert_deferred_until(harness, target_id, midnight)
    assert "midnight Pacific" in target["user_message"]
    assert harness.published("youtube") == []

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] >= midnight
    assert len(harness.published("youtube")) == 1


def test_full_instagram_publishing_limit_waits_24h_after_the_oldest_post(
    harness: Harness, user_a, vertical_video
) -> None:
    first = publish(harness, user_a, vertical_video, ["instagram"])
    harness.run()
    assert harness.target(first["by_platform"]["instagram"])["state"] == "published"
    media = harness.sandbox.sandbox.store("instagram")["media"]
    (oldest,) = media.values()

    harness.sandbox.sandbox.config["instagram.quota_total"] = 1
    second = harness.publish(user_a, video_id=first["video_id"], caption="Second reel",
                             targets=[target_request("instagram")])
    target_id = second["targets"][0]["target_id"]
    harness.run(until=harness.clock.now + timedelta(hours=1))
    frees_at = datetime.fromtimestamp(int(oldest["created"]), UTC) + timedelta(hours=24)
    _assert_deferred_until(harness, target_id, frees_at)
    assert len(harness.published("instagram")) == 1

    # A day passes on Instagram's side too: the first reel leaves the rolling window.
    oldest["created"] -= 86400 + 60
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] >= frees_at
    assert len(harness.published("instagram")) == 2


def test_own_budget_defers_without_calling_the_platform(harness: Harness, user_a, vertical_video) -> None:
    from shared.platforms.youtube.publisher import YouTubeAdapter

    answer = publish(harness, user_a, vertical_video, ["youtube"])
    target_id = answer["by_platform"]["youtube"]
    target = harness.target(target_id)
    channel = harness.account_id(str(target["connection_id"]))
    rule = next(r for r in YouTubeAdapter.quotas if r.scope == "account")
    with harness.db.service() as conn:  # the channel already used its day on earlier posts
        for _ in range(rule.limit):
            conn.execute("insert into platform_quota_usage (platform, scope, user_id, used_at) "
                         "values ('youtube', %s, %s, %s)", (f"account:{channel}", user_a["sub"], harness.clock.now))
    harness.adapter_requests.clear()

    midnight = _next_pacific_midnight(harness.clock.now)
    harness.run(until=midnight - timedelta(seconds=1))
    deferred = _assert_deferred_until(harness, target_id, midnight)
    assert deferred["error_code"] == rule.name
    assert rule.user_message in deferred["user_message"]
    assert harness.adapter_requests == []
    assert harness.sandbox.sandbox.store("youtube").get("sessions", {}) == {}

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert len(harness.published("youtube")) == 1
    assert harness.adapter_requests
