"""Editing what exists, over the publish-video function: a scheduled post switched to "publish now"
(and moved in time), a whole post canceled in one call, a platform added to a post."""

from __future__ import annotations

from datetime import timedelta

from tests.pipeline.api import call
from tests.pipeline.flows import connect, target_request
from tests.support.stack import Harness


def _scheduled_post(harness: Harness, monkeypatch, user, video_id: str, platforms: tuple[str, ...]) -> dict:
    at = (harness.clock.now + timedelta(days=1)).isoformat()
    body = {"video_id": video_id, "caption": "Later 🌸", "publish_at": at,
            "targets": [target_request(p) for p in platforms]}
    status, answer = call(harness, monkeypatch, "POST", "/", user=user, json=body)
    assert status == 202, answer
    return answer


def test_a_scheduled_post_moves_in_time_then_publishes_now(harness: Harness, monkeypatch, user_a,
                                                           vertical_video) -> None:
    connect(harness, user_a, "instagram")
    video_id = harness.video(user_a, vertical_video)
    target_id = _scheduled_post(harness, monkeypatch, user_a, video_id, ("instagram",))["targets"][0]["target_id"]
    later = harness.clock.now + timedelta(days=2)
    status, moved = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                         json={"publish_at": later.isoformat()})
    assert status == 200 and moved["state"] == "scheduled", moved
    assert harness.target(target_id)["scheduled_at"] == later

    status, both = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                        json={"publish_now": True, "publish_at": later.isoformat()})
    assert status == 422 and "not both" in both["message"]

    status, now = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                       json={"publish_now": True, "caption": "Now 🌸"})
    assert status == 200 and now["state"] == "queued" and now["scheduled_at"] is None, now
    harness.run(until=harness.clock.now + timedelta(minutes=5))
    final = harness.target(target_id)
    assert final["state"] == "published", final["user_message"]
    assert [r["caption"] for r in harness.published("instagram")] == ["Now 🌸"]
    # Started: it can no longer be moved.
    status, refused = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                           json={"publish_at": later.isoformat()})
    assert status == 409 and refused["code"] == "already_started"


def test_a_whole_post_is_canceled_in_one_call(harness: Harness, monkeypatch, user_a, vertical_video) -> None:
    for platform in ("instagram", "youtube", "facebook"):
        connect(harness, user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    answer = _scheduled_post(harness, monkeypatch, user_a, video_id, ("instagram", "youtube", "facebook"))
    post_id = answer["post_id"]
    status, post = call(harness, monkeypatch, "POST", f"/posts/{post_id}/cancel", user=user_a)
    assert status == 200, post
    assert {t["state"] for t in post["targets"]} == {"canceled"} and len(post["targets"]) == 3
    harness.run(until=harness.clock.now + timedelta(days=2))
    harness.tick()
    harness.run()
    assert harness.published("instagram") == harness.published("youtube") == harness.published("facebook") == []
    status, again = call(harness, monkeypatch, "POST", f"/posts/{post_id}/cancel", user=user_a)
    assert status == 409 and again["code"] == "cannot_cancel"
    status, missing = call(harness, monkeypatch, "POST", "/posts/00000000-0000-0000-0000-000000000000/cancel",
                           user=user_a)
    assert status == 404


def test_a_platform_is_added_to_a_post_with_the_same_checks(harness: Harness, monkeypatch, user_a, user_b,
                                                            vertical_video) -> None:
    connect(harness, user_a, "instagram")
    connect(harness, user_a, "tiktok")
    video_id = harness.video(user_a, vertical_video)
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a,
                          json={"video_id": video_id, "caption": "Shared text", "hashtags": ["sale"],
                                "targets": [{"platform": "instagram"}]})
    assert status == 202
    post_id = answer["post_id"]
    # The same checks as creating: TikTok needs its privacy choice and consent; text limits apply.
    status, refused = call(harness, monkeypatch, "POST", f"/posts/{post_id}/targets", user=user_a,
                           json={"targets": [{"platform": "tiktok", "caption": "😀" * 1101,
                                              "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}}]})
    assert status == 422 and refused["code"] == "not_publishable"
    assert [(p["field"], p["code"]) for p in refused["detail"]] == [("targets.0.caption", "caption_too_long")]
    status, twice = call(harness, monkeypatch, "POST", f"/posts/{post_id}/targets", user=user_a,
                         json={"targets": [{"platform": "instagram"}]})
    assert status == 409 and twice["code"] == "already_in_post"
    status, other = call(harness, monkeypatch, "POST", f"/posts/{post_id}/targets", user=user_b,
                         json={"targets": [target_request("tiktok")]})
    assert status == 404
    # "best" works as when creating: without enough history it is a plain refusal, not a crash.
    status, best = call(harness, monkeypatch, "POST", f"/posts/{post_id}/targets", user=user_a,
                        json={"targets": [{**target_request("tiktok"), "publish_at": "best"}]})
    assert status == 422 and best["code"] == "no_best_time", best

    status, added = call(harness, monkeypatch, "POST", f"/posts/{post_id}/targets", user=user_a,
                         json={"targets": [target_request("tiktok")]})
    assert status == 201 and added["post_id"] == post_id, added
    harness.run()
    post = harness.post(user_a, post_id)
    assert {t["platform"]: t["state"] for t in post["targets"]} == {"instagram": "published", "tiktok": "published"}
    assert [r["caption"] for r in harness.published("tiktok")] == ["Shared text #sale"]
