"""The shared YouTube upload bucket is fair: each user gets a share of the project's daily
videos.insert calls, refused at scheduling time with a plain message, and deferred at
publish time if the share was used meanwhile.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.http import ApiError
from shared.platforms.youtube import YouTubeAdapter
from shared.platforms.youtube.publisher import build_quotas
from shared.platforms.youtube.settings import YouTubeSettings
from shared.publishing import quota
from tests.pipeline.flows import target_request
from tests.support.edge import as_answered
from tests.support.stack import Harness

SHARE = 2


@pytest.fixture
def small_share(monkeypatch):
    monkeypatch.setattr(YouTubeAdapter, "quotas", build_quotas(YouTubeSettings(daily_uploads_per_user=SHARE)))


def _publish(harness: Harness, user: dict, video_id: str) -> dict:
    return harness.publish(user, video_id=video_id, caption="Daily short", targets=[target_request("youtube")])


def test_a_heavy_user_is_refused_beyond_their_share_and_others_still_publish(
    harness: Harness, small_share, user_a, user_b, vertical_video
) -> None:
    harness.connect(user_a, "youtube")
    harness.connect(user_b, "youtube")
    video_a, video_b = harness.video(user_a, vertical_video), harness.video(user_b, vertical_video)
    for _ in range(SHARE):
        _publish(harness, user_a, video_a)
    with pytest.raises(ApiError) as refused, as_answered():
        _publish(harness, user_a, video_a)
    assert refused.value.status == 409 and refused.value.detail["platform"] == "youtube"
    assert f"up to {SHARE} a day" in refused.value.message and "Please pick another day" in refused.value.message
    # Another user's post does not wait for the heavy scheduler.
    answer = _publish(harness, user_b, video_b)
    harness.run()
    assert harness.target(answer["targets"][0]["target_id"])["state"] == "published"
    assert len(harness.published("youtube")) == SHARE + 1


def test_share_used_meanwhile_defers_to_midnight_pacific(
    harness: Harness, small_share, user_a, vertical_video
) -> None:
    harness.connect(user_a, "youtube")
    target_id = _publish(harness, user_a, harness.video(user_a, vertical_video))["targets"][0]["target_id"]
    with harness.db.service() as conn:  # the user's share went to posts made elsewhere since
        for _ in range(SHARE):
            conn.execute("insert into platform_quota_usage (platform, scope, user_id, used_at) values "
                         "('youtube', %s, %s, %s)", (f"user:{user_a['sub']}", user_a["sub"], harness.clock.now))
    local = harness.clock.now.astimezone(quota.PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    harness.run(until=midnight - timedelta(seconds=1))
    target = harness.target(target_id)
    assert target["state"] == "deferred" and target["error_code"] == "videos.insert.per_user"
    assert "your share of YouTube uploads" in target["user_message"]
    assert harness.published("youtube") == []
    harness.run()
    assert harness.target(target_id)["state"] == "published"
