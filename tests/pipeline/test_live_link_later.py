"""Never `failed` while the video is live.

- Once a platform confirms the video is live, the target is `published` at once; a link
  that could not be read yet is filled in later, by the next step or by the tick.
- When the quick retries run out while an outcome is unknown, the target keeps asking
  (it is not `failed`, nothing is resent), the tick picks it up, and after
  PUBLISH_RECONCILE_HOURS it tells the user to check the platform; Retry asks first.
"""

from __future__ import annotations

from datetime import timedelta

from shared.publishing.service import retry_target
from tests.pipeline.flows import publish
from tests.support.stack import Harness, as_user


def _lose_queued_tasks(harness: Harness) -> None:
    """Every task in flight is lost (a crash between commit and enqueue, a dropped task)."""
    while harness.queue._pop(None) is not None:
        pass


def _states(harness: Harness, target_id: str) -> list[str]:
    return [row["state"] for _, _, row in harness.history if str(row["id"]) == target_id]


def test_facebook_published_while_permalink_fails_shows_published_and_the_link_follows(
    pipeline: Harness, user_a, vertical_video
) -> None:
    answer = publish(pipeline, user_a, vertical_video, ["facebook"],
                     before=lambda: pipeline.fault("facebook", "permalink", "server_error", times=2))
    target_id = answer["by_platform"]["facebook"]
    pipeline.run()

    # Published as soon as Facebook said so, with no failure shown while the link was missing.
    first_published = next(row for _, _, row in pipeline.history
                           if str(row["id"]) == target_id and row["state"] == "published")
    assert first_published["platform_url"] is None and first_published["user_message"] is None
    assert "failed" not in _states(pipeline, target_id)
    final = pipeline.target(target_id)
    assert final["state"] == "published"
    assert final["platform_url"] and "/reel/" in final["platform_url"]
    assert final["published_at"] == first_published["published_at"]
    assert "link_pending" not in final["step_data"] and final["next_attempt_at"] is None
    assert len(pipeline.published("facebook")) == 1


def test_a_lost_link_follow_up_is_picked_up_by_the_tick(pipeline: Harness, user_a, vertical_video) -> None:
    answer = publish(pipeline, user_a, vertical_video, ["facebook"],
                     before=lambda: pipeline.fault("facebook", "permalink", "server_error", times=1))
    target_id = answer["by_platform"]["facebook"]
    while pipeline.target(target_id)["state"] != "published":
        pipeline.run(max_tasks=1)
    _lose_queued_tasks(pipeline)
    live = pipeline.target(target_id)
    assert live["platform_url"] is None and live["step_data"]["link_pending"]

    pipeline.clock.now = live["next_attempt_at"] + timedelta(minutes=3)
    assert target_id in pipeline.tick()
    pipeline.run()
    final = pipeline.target(target_id)
    assert final["state"] == "published" and final["platform_url"], final
    assert len(pipeline.published("facebook")) == 1


def test_instagram_reel_live_but_media_unreadable_is_published_and_the_link_follows(
    pipeline: Harness, user_a, vertical_video
) -> None:
    answer = publish(pipeline, user_a, vertical_video, ["instagram"],
                     before=lambda: pipeline.fault("instagram", "media", "server_error", times=3))
    target_id = answer["by_platform"]["instagram"]
    pipeline.run()
    states = _states(pipeline, target_id)
    assert "failed" not in states and states.count("published") >= 2, states
    final = pipeline.target(target_id)
    assert final["state"] == "published" and final["platform_url"], final
    assert final["platform_post_id"] == pipeline.published("instagram")[0]["post_id"]
    assert len(pipeline.published("instagram")) == 1


def test_unknown_outcome_after_the_retries_keeps_asking_and_the_tick_reconciles(
    pipeline: Harness, user_a, vertical_video
) -> None:
    def faults() -> None:
        pipeline.fault("instagram", "publish", "publish_then_reset")
        # Every question "did it go live?" fails for longer than the quick retries last.
        pipeline.fault("instagram", "container_status", "server_error", times=6, skip=1)

    answer = publish(pipeline, user_a, vertical_video, ["instagram"], before=faults)
    target_id = answer["by_platform"]["instagram"]
    pipeline.run(until=pipeline.clock.now + timedelta(minutes=40))

    checking = pipeline.target(target_id)
    assert checking["state"] == "reconciling", (checking["state"], checking["user_message"])
    assert checking["attempts"] > 3 and "pending_call" in checking["step_data"]
    assert checking["user_message"] == "We're checking with Instagram Reels whether your video went live."
    assert "failed" not in _states(pipeline, target_id)

    # The task goes missing; the tick keeps asking until Instagram answers.
    _lose_queued_tasks(pipeline)
    for _ in range(10):
        pipeline.clock.advance(minutes=20)
        pipeline.tick()
        pipeline.run(until=pipeline.clock.now)
        if pipeline.target(target_id)["state"] == "published":
            break
    final = pipeline.target(target_id)
    assert final["state"] == "published" and final["platform_url"], (final["state"], final["user_message"])
    assert len(pipeline.published("instagram")) == 1
    assert [r for r in pipeline.adapter_requests if r.endswith("/media_publish")] == [
        next(r for r in pipeline.adapter_requests if r.endswith("/media_publish"))], "media_publish sent once"


def test_no_answer_for_a_day_tells_the_user_to_check_and_retry_asks_first(
    pipeline: Harness, user_a, vertical_video
) -> None:
    def faults() -> None:
        pipeline.fault("instagram", "publish", "publish_then_reset")
        pipeline.fault("instagram", "container_status", "server_error", times=-1, skip=1)

    answer = publish(pipeline, user_a, vertical_video, ["instagram"], before=faults)
    target_id = answer["by_platform"]["instagram"]
    pipeline.run(until=pipeline.clock.now + timedelta(hours=25))

    final = pipeline.target(target_id)
    assert final["state"] == "failed"
    assert final["error_code"] == "outcome_unknown"
    assert final["user_message"].startswith("We couldn't confirm with Instagram Reels whether your video went live.")
    assert "check your Instagram Reels profile" in final["user_message"]
    assert "pending_call" in final["step_data"]
    assert len(pipeline.published("instagram")) == 1   # it was live all along

    pipeline.clear_faults()
    view = retry_target(pipeline.rt, as_user(user_a), target_id)
    assert view["state"] == "reconciling"
    pipeline.run()
    done = pipeline.target(target_id)
    assert done["state"] == "published" and done["platform_url"]
    assert len(pipeline.published("instagram")) == 1   # Retry asked first and sent nothing again



def test_status_reads_failing_after_the_upload_never_fail_a_video_that_goes_live(
    pipeline: Harness, user_a, vertical_video
) -> None:
    """TikTok publishes once the last chunk is in: reads that keep failing after that are not a failure."""
    answer = publish(pipeline, user_a, vertical_video, ["tiktok"],
                     before=lambda: pipeline.fault("tiktok", "status", "server_error", times=6))
    target_id = answer["by_platform"]["tiktok"]
    pipeline.run()
    states = _states(pipeline, target_id)
    assert "failed" not in states, states
    watched = [row for _, _, row in pipeline.history if str(row["id"]) == target_id and row["attempts"] >= 4]
    assert watched and watched[0]["user_message"] == "We're checking with TikTok whether your video went live."
    final = pipeline.target(target_id)
    assert final["state"] == "published" and final["platform_url"], final
    assert "watch_since" not in final["step_data"]
    assert len(pipeline.published("tiktok")) == 1
