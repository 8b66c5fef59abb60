"""One platform refuses for good while three publish: the user learns which, in plain words."""

from __future__ import annotations

from tests.pipeline.flows import NETWORKS, publish
from tests.support.stack import Harness


def test_one_platform_failing_permanently_does_not_stop_the_other_three(
    harness: Harness, user_a, vertical_video
) -> None:
    answer = publish(harness, user_a, vertical_video, NETWORKS, before=lambda: harness.fault(
        "facebook", "finish", "processing_error", params={"message": "video could not be processed"}))
    harness.run()

    view = harness.post(user_a, answer["post_id"])
    states = {t["platform"]: t["state"] for t in view["targets"]}
    assert states == {"tiktok": "published", "instagram": "published", "youtube": "published",
                      "facebook": "failed"}, view
    assert view["summary"] == "Published to 3 of 4 platforms, 1 failed."
    failed = next(t for t in view["targets"] if t["platform"] == "facebook")
    assert failed["user_message"] and "Facebook" in failed["user_message"]
    assert "{" not in failed["user_message"] and "Traceback" not in failed["user_message"]
    assert failed["can_retry"] is True
    for platform in ("tiktok", "instagram", "youtube"):
        assert len(harness.published(platform)) == 1, platform
    assert harness.published("facebook") == []
