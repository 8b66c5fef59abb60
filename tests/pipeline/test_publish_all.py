"""One action, four platforms: the main job through the real pipeline."""

from __future__ import annotations

from tests.support.stack import Harness

CAPTION = "Spring sale starts today!"


def _connect_all(harness: Harness, user: dict[str, str]) -> None:
    for platform in ("tiktok", "instagram", "youtube", "facebook"):
        harness.connect(user, platform)


def test_one_video_to_four_platforms_publishes_each_exactly_once(harness: Harness, user_a, vertical_video) -> None:
    _connect_all(harness, user_a)
    video_id = harness.video(user_a, vertical_video)
    answer = harness.publish(
        user_a,
        video_id=video_id,
        caption=CAPTION,
        hashtags=["springsale"],
        targets=[
            {"platform": "tiktok", "options": {"privacy_level": "PUBLIC_TO_EVERYONE"}},
            {"platform": "instagram"},
            {"platform": "youtube", "title": "Spring sale"},
            {"platform": "facebook"},
        ],
    )
    assert {t["state"] for t in answer["targets"]} == {"queued"}
    harness.run()
    view = harness.post(user_a, answer["post_id"])
    states = {t["platform"]: t["state"] for t in view["targets"]}
    assert states == {p: "published" for p in ("tiktok", "instagram", "youtube", "facebook")}, view
    assert view["summary"] == "Published to 4 of 4 platforms."
    for target in view["targets"]:
        assert target["platform_url"], target
        records = harness.published(target["platform"])
        assert len(records) == 1, (target["platform"], records)
