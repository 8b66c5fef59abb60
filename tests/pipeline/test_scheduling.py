"""Scheduled posts: the user's time zone, the tick, editing, canceling, and times we refuse.

TikTok here, with staging off, so its first step starts at the slot (staging: test_staging.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.http import ApiError
from shared.publishing.requests import TargetEdit
from shared.publishing.service import cancel_target, edit_target
from tests.pipeline.flows import publish, target_request
from tests.support.edge import as_answered
from tests.support.stack import Harness, as_user

NINE_IN_NEW_YORK = "2026-12-01T09:00"
FOURTEEN_UTC = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def early_clock(harness: Harness) -> Harness:
    # A week before the slot (so it is within 30 days and in the future).
    harness.clock.now = FOURTEEN_UTC - timedelta(days=7)
    return harness



@pytest.fixture(autouse=True)
def facebook_and_tiktok_start_at_the_slot(monkeypatch):
    """These tests are about when a post starts; staging ahead of the slot is tested in test_staging."""
    monkeypatch.setenv("FACEBOOK_STAGE_LEAD_MINUTES", "0")
    monkeypatch.setenv("TIKTOK_STAGE_LEAD_MINUTES", "0")

def test_new_york_morning_publishes_at_14_utc_and_not_before(early_clock: Harness, user_a, vertical_video) -> None:
    harness = early_clock
    answer = publish(harness, user_a, vertical_video, ["tiktok"], publish_at=NINE_IN_NEW_YORK,
                     timezone="America/New_York")
    target_id = answer["by_platform"]["tiktok"]
    target = harness.target(target_id)
    assert target["state"] == "scheduled"
    assert target["scheduled_at"] == FOURTEEN_UTC
    # The task exists from the moment of scheduling, due at the slot.
    [task] = harness.queue.pending()
    assert task.run_at == FOURTEEN_UTC
    assert task.payload == {"target_id": target_id, "seq": target["task_seq"]}

    harness.clock.now = FOURTEEN_UTC - timedelta(seconds=1)
    assert harness.queue.run_due(harness.clock.now) == 0
    harness.clock.now = FOURTEEN_UTC
    assert target_id not in harness.tick()   # the tick leaves the slot to the task
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published"
    assert final["published_at"] >= FOURTEEN_UTC
    assert len(harness.published("tiktok")) == 1


def test_a_lost_slot_task_is_picked_up_by_the_tick_once_overdue(early_clock: Harness, user_a, vertical_video) -> None:
    harness = early_clock
    harness.connect(user_a, "facebook")
    video_id = harness.video(user_a, vertical_video)

    def unavailable(**task: object) -> bool:
        raise ConnectionError("Cloud Tasks unavailable")

    harness.queue.enqueue = unavailable  # type: ignore[method-assign]
    try:
        answer = harness.publish(user_a, video_id=video_id, publish_at=NINE_IN_NEW_YORK,
                                 timezone="America/New_York", targets=[target_request("facebook")])
    finally:
        del harness.queue.enqueue
    target_id = answer["targets"][0]["target_id"]
    assert harness.target(target_id)["state"] == "scheduled"   # stored although its task was not created
    assert harness.queue.pending() == []

    overdue = FOURTEEN_UTC + timedelta(seconds=harness.rt.stale_after_seconds)
    harness.clock.now = overdue - timedelta(seconds=1)
    assert target_id not in harness.tick()
    harness.clock.now = overdue
    assert target_id in harness.tick()
    harness.run()
    assert harness.target(target_id)["state"] == "published"
    assert len(harness.published("facebook")) == 1


def test_editing_moves_the_time_and_is_refused_once_started(early_clock: Harness, user_a, vertical_video) -> None:
    harness = early_clock
    user = as_user(user_a)
    answer = publish(harness, user_a, vertical_video, ["tiktok"], publish_at=NINE_IN_NEW_YORK,
                     timezone="America/New_York")
    target_id = answer["by_platform"]["tiktok"]

    # 09:00 New York moves to 07:30 Berlin on the same day (06:30 UTC).
    moved = edit_target(harness.rt, user, target_id,
                        TargetEdit(publish_at=datetime(2026, 12, 1, 7, 30), timezone="Europe/Berlin"))
    new_time = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    assert moved["scheduled_at"] == new_time and moved["timezone"] == "Europe/Berlin"
    assert harness.target(target_id)["next_attempt_at"] == new_time
    # The edit bumped the sequence and made a task for the new time; the old task stays but is stale.
    tasks = {task.payload["seq"]: task.run_at for task in harness.queue.pending()}
    assert tasks == {0: FOURTEEN_UTC, 1: new_time}
    assert harness.target(target_id)["task_seq"] == 1
    harness.clock.now = new_time - timedelta(seconds=1)
    assert harness.queue.run_due(harness.clock.now) == 0
    harness.clock.now = new_time

    harness.queue.run_due(harness.clock.now)  # the first step starts
    assert harness.history[0][1] not in ("stale", "early")
    with pytest.raises(ApiError) as refused, as_answered():
        edit_target(harness.rt, user, target_id, TargetEdit(caption="too late"))
    assert refused.value.status == 409
    assert "can't be edited" in refused.value.message
    harness.run()
    assert harness.target(target_id)["state"] == "published"
    # The task of the old slot was delivered too, and did nothing.
    assert [outcome for at, outcome, _ in harness.history if at >= FOURTEEN_UTC] == ["stale"]
    assert len(harness.published("tiktok")) == 1


def test_canceled_target_never_publishes(early_clock: Harness, user_a, vertical_video) -> None:
    harness = early_clock
    answer = publish(harness, user_a, vertical_video, ["facebook"], publish_at=NINE_IN_NEW_YORK,
                     timezone="America/New_York")
    target_id = answer["by_platform"]["facebook"]
    seq = harness.target(target_id)["task_seq"]
    view = cancel_target(harness.rt, as_user(user_a), target_id)
    assert view["state"] == "canceled"

    harness.clock.now = FOURTEEN_UTC + timedelta(hours=1)
    assert target_id not in harness.tick()
    # A task still in flight from before the cancel is a no-op.
    assert harness.advance({"target_id": target_id, "seq": seq}) == "not_runnable"
    assert harness.advance({"target_id": target_id, "seq": None}) == "not_runnable"
    assert harness.target(target_id)["state"] == "canceled"
    assert harness.published("facebook") == []
    with pytest.raises(ApiError) as again, as_answered():
        cancel_target(harness.rt, as_user(user_a), target_id)
    assert again.value.status == 409


@pytest.mark.parametrize(("publish_at", "message"), [
    ("2026-11-20T09:00", "The chosen time is in the past. Pick a time from now on, or publish now."),
    ("2027-01-15T09:00", "Posts can be scheduled at most 30 days ahead."),
])
def test_past_or_far_future_times_are_refused_at_creation(
    early_clock: Harness, user_a, vertical_video, publish_at: str, message: str
) -> None:
    harness = early_clock
    harness.connect(user_a, "facebook")
    video_id = harness.video(user_a, vertical_video)
    with pytest.raises(ApiError) as refused, as_answered():
        harness.publish(user_a, video_id=video_id, publish_at=publish_at, timezone="America/New_York",
                        targets=[target_request("facebook")])
    assert refused.value.status == 422
    assert message in refused.value.message
    with harness.db.service() as conn:
        assert conn.execute("select count(*) as n from posts where user_id = %s",
                            (user_a["sub"],)).fetchone()["n"] == 0
