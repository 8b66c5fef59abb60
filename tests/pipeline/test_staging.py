"""Stage ahead, publish at the slot: the platform's own schedule, end to end on the sandbox.

The sandbox's clock follows the harness clock here, so YouTube's publishAt flips a private
video to public at exactly the harness time of the slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox import facebook as facebook_sandbox
from sandbox import youtube as youtube_sandbox
from shared.http import ApiError
from shared.publishing.requests import TargetEdit
from shared.publishing.service import cancel_target, edit_target
from tests.pipeline.flows import publish
from tests.support.edge import as_answered
from tests.support.stack import Harness, as_user

# 00:30 Pacific on Dec 2: the staging hour (23:30 Pacific) falls on the Pacific day before.
SLOT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
LEAD = timedelta(minutes=60)


@pytest.fixture
def staged(harness: Harness) -> Iterator[Harness]:
    harness.clock.now = SLOT - timedelta(hours=3)
    sb = harness.sandbox.sandbox
    sb.clock_source = lambda: harness.clock.now.timestamp()
    yield harness
    sb.clock_source = None


def _schedule_youtube(harness: Harness, user: dict[str, str], video) -> str:
    answer = publish(harness, user, video, ["youtube"], publish_at=SLOT.strftime("%Y-%m-%dT%H:%M"),
                     timezone="UTC")
    return str(answer["by_platform"]["youtube"])


def _stage(harness: Harness, target_id: str) -> None:
    """The task made at scheduling time fires at the staging time; then every task until just before the slot."""
    harness.run(until=SLOT - LEAD - timedelta(seconds=1))
    assert "staged" not in harness.target(target_id)["step_data"]       # nothing ran before the staging time
    assert any(task.payload["target_id"] == target_id and task.run_at == SLOT - LEAD
               for task in harness.queue.pending())
    harness.run(until=SLOT - timedelta(seconds=30))


def _video(harness: Harness, target_id: str) -> dict:
    video_id = harness.target(target_id)["step_data"]["video_id"]
    store = harness.sandbox.sandbox.store("youtube")
    return store["videos"].get(video_id) or store["deleted"][video_id]


def test_youtube_is_uploaded_private_ahead_and_youtube_publishes_it_at_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    target = harness.target(target_id)
    assert target["state"] == "scheduled" and target["next_attempt_at"] == SLOT - LEAD

    _stage(harness, target_id)
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["staged"] is True and waiting["step_data"]["step"] == "confirm_live"
    assert waiting["next_attempt_at"] == SLOT
    video = _video(harness, target_id)
    assert video["status"]["privacyStatus"] == "private"
    assert video["status"]["publishAt"] == "2026-12-02T08:30:00Z"
    assert youtube_sandbox.live_at(harness.sandbox.sandbox, video["id"]) is None
    # videos.insert was counted when it happened: on the staging day (Dec 1, Pacific).
    with harness.db.service() as conn:
        used = conn.execute("select used_at from platform_quota_usage where target_id = %s",
                            (target_id,)).fetchall()
    assert used and {row["used_at"] for row in used} == {SLOT - LEAD}

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] == SLOT
    assert final["platform_url"] == f"https://www.youtube.com/shorts/{video['id']}"
    assert youtube_sandbox.live_at(harness.sandbox.sandbox, video["id"]) == SLOT.timestamp()
    assert len(harness.published("youtube")) == 1


def test_cancel_after_staging_deletes_the_private_video(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    video_id = harness.target(target_id)["step_data"]["video_id"]

    view = cancel_target(harness.rt, as_user(user_a), target_id)
    assert view["state"] == "canceled"
    harness.run(until=SLOT + timedelta(minutes=5))

    sb = harness.sandbox.sandbox
    assert video_id not in sb.store("youtube")["videos"]
    assert youtube_sandbox.live_at(sb, video_id) is None
    assert [entry.get("deleted") for entry in harness.published("youtube")] == [True]
    final = harness.target(target_id)
    assert final["state"] == "canceled" and final["published_at"] is None
    assert final["next_attempt_at"] is None and final["step_data"]["unstaged"] is True
    assert "DELETE /googleapis/youtube/v3/videos" in harness.adapter_requests


def test_an_edit_before_staging_moves_its_staging_time(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    later = SLOT + timedelta(hours=1)
    moved = edit_target(harness.rt, as_user(user_a), target_id,
                        TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC"))
    assert moved["scheduled_at"] == later and moved["next_attempt_at"] == later - LEAD

    # The edit replaced the task: the new one fires at the new staging time.
    assert any(task.payload["target_id"] == target_id and task.run_at == later - LEAD
               for task in harness.queue.pending())
    harness.run(until=later - timedelta(seconds=30))
    assert harness.target(target_id)["step_data"]["staged"] is True


def test_editing_a_staged_youtube_video_moves_its_publish_at_and_text(staged: Harness, user_a,
                                                                      vertical_video) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    video_id = harness.target(target_id)["step_data"]["video_id"]
    later = SLOT + timedelta(hours=2)

    view = edit_target(harness.rt, as_user(user_a), target_id,
                       TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC", caption="new words"))
    assert view["state"] == "scheduled" and view["scheduled_at"] == later
    harness.run(until=SLOT + timedelta(minutes=5))
    sb = harness.sandbox.sandbox
    video = sb.store("youtube")["videos"][video_id]
    assert video["status"]["privacyStatus"] == "private"
    assert video["status"]["publishAt"] == "2026-12-02T10:30:00Z"
    assert video["snippet"]["description"].startswith("new words")
    assert youtube_sandbox.live_at(sb, video_id) is None          # not at the old slot
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled" and waiting["next_attempt_at"] == later
    assert waiting["step_data"]["staged"] is True and waiting["step_data"]["step"] == "confirm_live"
    assert "PUT /googleapis/youtube/v3/videos" in harness.adapter_requests

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] == later
    assert final["platform_post_id"] == video_id
    assert youtube_sandbox.live_at(sb, video_id) == later.timestamp()
    (entry,) = harness.published("youtube")                       # one upload, live once
    assert entry["caption"].startswith("new words")


def test_a_staged_youtube_video_switched_to_publish_now_goes_public_now(staged: Harness, user_a,
                                                                         vertical_video) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    video_id = harness.target(target_id)["step_data"]["video_id"]
    now = harness.clock.now

    edit_target(harness.rt, as_user(user_a), target_id, TargetEdit(publish_now=True))
    harness.run(until=now + timedelta(minutes=1))
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    sb = harness.sandbox.sandbox
    assert youtube_sandbox.live_at(sb, video_id) is not None and youtube_sandbox.live_at(sb, video_id) < \
        SLOT.timestamp()
    assert len(harness.published("youtube")) == 1


def test_a_staged_target_whose_slot_came_or_whose_settings_change_is_refused(staged: Harness, user_a,
                                                                              vertical_video) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    with pytest.raises(ApiError) as refused, as_answered():
        edit_target(harness.rt, as_user(user_a), target_id, TargetEdit(options={"privacy_status": "unlisted"}))
    assert refused.value.status == 409 and "not its settings" in refused.value.message
    harness.clock.now = SLOT
    with pytest.raises(ApiError) as late, as_answered():
        edit_target(harness.rt, as_user(user_a), target_id, TargetEdit(caption="too late"))
    assert late.value.status == 409 and "going live right now" in late.value.message


def test_sandbox_refuses_moving_publish_at_of_a_video_already_public(staged: Harness, user_a,
                                                                      vertical_video) -> None:
    import httpx

    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    harness.run()
    video_id = harness.target(target_id)["platform_post_id"]
    sb = harness.sandbox.sandbox
    video = sb.store("youtube")["videos"][video_id]
    token = sb.mint_token("youtube", video["account_id"]).value
    body = {"id": video_id, "snippet": {"title": "t", "categoryId": "22"},
            "status": {"privacyStatus": "private", "publishAt": "2026-12-03T08:30:00Z"}}
    answer = httpx.put(f"{harness.sandbox.url}/googleapis/youtube/v3/videos", params={"part": "snippet,status"},
                       headers={"Authorization": f"Bearer {token}"}, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == "invalidPublishAt"


# The slot as the user wrote it, the refused step, and what the user is told before the slot.
EXPIRED_WHILE_STAGING = {
    "youtube": ({"publish_at": "2026-12-02T00:30", "timezone": "America/Los_Angeles"}, "insert",
                "Your YouTube Shorts connection expired. Reconnect YouTube Shorts before Dec 2, 00:30 so your "
                "video goes out on time."),
    "tiktok": ({"publish_at": SLOT.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC"}, "creator_info",
               "Your TikTok connection expired. Reconnect TikTok before 08:30 so your video goes out on time."),
}


@pytest.mark.parametrize("platform", sorted(EXPIRED_WHILE_STAGING))
def test_expired_token_found_while_staging_is_told_before_the_slot_and_still_meets_it(
    staged: Harness, user_a, vertical_video, platform
) -> None:
    harness = staged
    when, step, told = EXPIRED_WHILE_STAGING[platform]
    answer = publish(harness, user_a, vertical_video, [platform], **when,
                     before=lambda: harness.fault(platform, step, "expired_token"))
    target_id = str(answer["by_platform"][platform])
    _stage(harness, target_id)

    parked = harness.target(target_id)
    assert parked["state"] == "needs_reconnect"
    assert parked["user_message"] == told
    assert harness.published(platform) == []

    # Reconnected 20 minutes before the slot: staging resumes and still makes it.
    harness.clock.now = SLOT - timedelta(minutes=20)
    account = harness.account_id(str(parked["connection_id"]))
    harness.connect(user_a, platform, sandbox_account=account)
    harness.run(until=SLOT - timedelta(seconds=30))
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled" and waiting["step_data"]["staged"] is True
    uploaded_ahead = len(harness.published(platform))  # YouTube holds the private video; TikTok has nothing yet
    assert uploaded_ahead == (1 if platform == "youtube" else 0)
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] >= SLOT
    if platform == "youtube":  # YouTube's own scheduler makes it public exactly at the slot
        assert final["published_at"] == SLOT
        assert youtube_sandbox.live_at(harness.sandbox.sandbox, final["platform_post_id"]) == SLOT.timestamp()
    else:
        assert len(harness.published(platform)) == 1


def test_sandbox_refuses_publish_at_on_a_video_that_is_not_private(sandbox) -> None:
    import httpx

    sb = sandbox.sandbox
    sb.add_account("youtube", "UC-staging")
    token = sb.mint_token("youtube", "UC-staging").value
    body = {"snippet": {"title": "t"}, "status": {"privacyStatus": "public", "publishAt": "2026-12-02T08:30:00Z"}}
    answer = httpx.post(f"{sandbox.url}/googleapis/upload/youtube/v3/videos",
                        params={"uploadType": "resumable", "part": "snippet,status"},
                        headers={"Authorization": f"Bearer {token}", "X-Upload-Content-Length": "10"}, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == "invalidPublishAt"


def _schedule(harness: Harness, user: dict[str, str], video, platform: str, slot: datetime = SLOT) -> str:
    answer = publish(harness, user, video, [platform], publish_at=slot.strftime("%Y-%m-%dT%H:%M"), timezone="UTC")
    return str(answer["by_platform"][platform])


def test_facebook_reel_is_finished_as_scheduled_ahead_and_facebook_publishes_it_at_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "facebook")
    _stage(harness, target_id)
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["scheduled_for"] == int(SLOT.timestamp())
    assert waiting["next_attempt_at"] == SLOT
    reel_id = waiting["step_data"]["video_id"]
    sb = harness.sandbox.sandbox
    assert sb.store("facebook")["videos"][reel_id]["scheduled_for"] == SLOT.timestamp()
    assert facebook_sandbox.live_at(sb, reel_id) is None

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] == SLOT and final["platform_post_id"] == reel_id
    assert facebook_sandbox.live_at(sb, reel_id) == SLOT.timestamp()


def test_cancel_after_staging_deletes_the_scheduled_reel(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "facebook")
    _stage(harness, target_id)
    reel_id = harness.target(target_id)["step_data"]["video_id"]

    assert cancel_target(harness.rt, as_user(user_a), target_id)["state"] == "canceled"
    harness.run(until=SLOT + timedelta(minutes=5))
    sb = harness.sandbox.sandbox
    assert reel_id not in sb.store("facebook")["videos"]
    assert facebook_sandbox.live_at(sb, reel_id) is None
    assert [entry.get("deleted") for entry in harness.published("facebook")] == [True]
    final = harness.target(target_id)
    assert final["state"] == "canceled" and final["next_attempt_at"] is None and final["published_at"] is None


def test_facebook_slot_too_near_to_schedule_uploads_ahead_and_publishes_at_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    slot = harness.clock.now + timedelta(minutes=6)   # inside Facebook's 10 minutes
    target_id = _schedule(harness, user_a, vertical_video, "facebook", slot=slot.replace(second=0, microsecond=0))
    slot = harness.target(target_id)["scheduled_at"]
    # Its lead time is already running: the task made at scheduling time is due now.
    assert any(task.payload["target_id"] == target_id and task.run_at <= harness.clock.now
               for task in harness.queue.pending())
    harness.run(until=slot - timedelta(seconds=30))
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled" and waiting["step_data"]["step"] == "finish"
    assert harness.published("facebook") == []        # uploaded, nothing on the Page yet

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] >= slot
    assert "scheduled_for" not in final["step_data"]


def test_sandbox_refuses_a_reel_scheduled_less_than_ten_minutes_ahead(staged: Harness, user_a,
                                                                       vertical_video) -> None:
    harness = staged
    harness.connect(user_a, "facebook")
    sb = harness.sandbox.sandbox
    page = next(account for (platform, _), account in sb.accounts.items() if platform == "facebook")
    token = sb.mint_token("facebook", page["id"]).value
    import httpx

    base = f"{harness.sandbox.url}/facebook-graph/v26.0/{page['id']}/video_reels"
    started = httpx.post(base, data={"upload_phase": "start"}, headers={"Authorization": f"Bearer {token}"}).json()
    too_soon = int(harness.clock.now.timestamp()) + 300
    answer = httpx.post(base, headers={"Authorization": f"Bearer {token}"},
                        data={"upload_phase": "finish", "video_id": started["video_id"], "video_state": "SCHEDULED",
                              "scheduled_publish_time": str(too_soon)})
    assert answer.status_code == 400 and "scheduled publish time" in answer.json()["error"]["message"]


def test_blotato_post_is_handed_over_with_scheduled_time_and_blotato_publishes_it_at_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "blotato")
    _stage(harness, target_id)
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["scheduled_for"] == "2026-12-02T08:30:00Z"
    assert waiting["next_attempt_at"] == SLOT
    sb = harness.sandbox.sandbox
    (post,) = sb.store("blotato")["posts"].values()
    assert post["status"] == "scheduled" and post["scheduled_for"] == SLOT.timestamp()
    assert harness.published("blotato") == []

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] == SLOT
    assert len(harness.published("blotato")) == 1


def test_cancel_after_staging_deletes_the_blotato_schedule(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "blotato")
    _stage(harness, target_id)

    assert cancel_target(harness.rt, as_user(user_a), target_id)["state"] == "canceled"
    harness.run(until=SLOT + timedelta(minutes=5))
    sb = harness.sandbox.sandbox
    assert sb.store("blotato")["posts"] == {} and len(sb.store("blotato")["deleted"]) == 1
    assert "DELETE /blotato/v2/schedules" in {r.rsplit("/", 1)[0] for r in harness.adapter_requests}
    assert harness.published("blotato") == []
    final = harness.target(target_id)
    assert final["state"] == "canceled" and final["next_attempt_at"] is None


def test_instagram_container_is_ready_ahead_and_only_media_publish_runs_at_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "instagram")
    _stage(harness, target_id)
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["step"] == "check_quota" and waiting["next_attempt_at"] == SLOT
    sb = harness.sandbox.sandbox
    container = sb.store("instagram")["containers"][waiting["step_data"]["container_id"]]
    assert container["outcome"] == "FINISHED" and harness.published("instagram") == []

    before = len(harness.adapter_requests)
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] == SLOT
    (media,) = [m for m in sb.store("instagram")["media"].values() if m["id"] == final["platform_post_id"]]
    assert media["created"] == SLOT.timestamp()
    # At the slot: the quota read and media_publish (then the permalink).
    assert [r.rsplit("/", 1)[-1] for r in harness.adapter_requests[before:before + 2]] == [
        "content_publishing_limit", "media_publish"]


def test_cancel_after_staging_an_instagram_container_publishes_nothing(staged: Harness, user_a,
                                                                       vertical_video) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "instagram")
    _stage(harness, target_id)
    assert cancel_target(harness.rt, as_user(user_a), target_id)["state"] == "canceled"
    harness.clock.now = SLOT + timedelta(minutes=5)
    assert target_id not in harness.tick()
    harness.run()
    assert harness.published("instagram") == []
    assert harness.target(target_id)["state"] == "canceled"


def test_a_canceled_staged_instagram_container_cannot_be_deleted_and_expires_unpublished(
    staged: Harness, user_a, vertical_video
) -> None:
    import httpx

    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "instagram")
    _stage(harness, target_id)
    container_id = harness.target(target_id)["step_data"]["container_id"]
    assert cancel_target(harness.rt, as_user(user_a), target_id)["state"] == "canceled"
    assert not any(request.startswith("DELETE") for request in harness.adapter_requests)

    sb = harness.sandbox.sandbox
    owner = sb.store("instagram")["containers"][container_id]["owner"]
    token = sb.mint_token("instagram", owner).value
    url = f"{harness.sandbox.url}/instagram-graph/v26.0/{container_id}"
    refused = httpx.delete(url, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 400 and refused.json()["error"]["error_subcode"] == 33

    harness.clock.now = SLOT + timedelta(hours=25)
    harness.tick()
    harness.run()
    status = httpx.get(url, params={"fields": "status_code"}, headers={"Authorization": f"Bearer {token}"})
    assert status.json()["status_code"] == "EXPIRED"
    assert harness.published("instagram") == []
    assert harness.target(target_id)["state"] == "canceled"


def test_cancel_without_the_delete_scope_tells_the_user_to_delete_the_staged_video(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    # A connection made before we asked for youtube.force-ssl: upload and read, no delete.
    sb = harness.sandbox.sandbox
    for token in sb.tokens.values():
        if token.platform == "youtube":
            token.scopes = tuple(s for s in token.scopes if not s.endswith("youtube.force-ssl"))

    cancel_target(harness.rt, as_user(user_a), target_id)
    harness.run(until=SLOT - timedelta(seconds=10))
    final = harness.target(target_id)
    assert final["state"] == "canceled"
    assert final["user_message"] == ("Canceled, but we couldn't remove the scheduled video from YouTube Shorts. "
                                     "Delete it on YouTube Shorts, or it will still go out at 08:30.")
    assert _video(harness, target_id)["id"] in sb.store("youtube")["videos"]


def test_editing_a_staged_facebook_reel_replaces_it_and_only_the_new_one_goes_live(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "facebook")
    _stage(harness, target_id)
    old_reel = harness.target(target_id)["step_data"]["video_id"]
    later = SLOT + timedelta(hours=2)

    view = edit_target(harness.rt, as_user(user_a), target_id,
                       TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC", caption="new words"))
    assert view["scheduled_at"] == later
    harness.run(until=later - timedelta(seconds=30))
    sb = harness.sandbox.sandbox
    assert old_reel not in sb.store("facebook")["videos"]               # the old schedule is gone
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    new_reel = waiting["step_data"]["video_id"]
    assert new_reel != old_reel and waiting["next_attempt_at"] == later
    assert sb.store("facebook")["videos"][new_reel]["scheduled_for"] == later.timestamp()

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] == later
    assert facebook_sandbox.live_at(sb, old_reel) is None
    assert facebook_sandbox.live_at(sb, new_reel) == later.timestamp()
    assert [entry.get("deleted", False) for entry in harness.published("facebook")] == [True, False]


def test_editing_a_staged_instagram_container_stages_a_new_one_and_publishes_once(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "instagram")
    _stage(harness, target_id)
    old_container = harness.target(target_id)["step_data"]["container_id"]

    edit_target(harness.rt, as_user(user_a), target_id, TargetEdit(caption="new words"))
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] == SLOT
    assert final["step_data"]["container_id"] != old_container
    (entry,) = harness.published("instagram")
    assert entry["caption"].startswith("new words")


def test_editing_a_staged_blotato_post_replaces_its_schedule(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "blotato")
    _stage(harness, target_id)
    later = SLOT + timedelta(hours=2)

    edit_target(harness.rt, as_user(user_a), target_id,
                TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC"))
    harness.run(until=later - timedelta(seconds=30))
    sb = harness.sandbox.sandbox
    assert len(sb.store("blotato")["deleted"]) == 1                     # the old schedule is gone
    (post,) = sb.store("blotato")["posts"].values()
    assert post["status"] == "scheduled" and post["scheduled_for"] == later.timestamp()
    assert harness.published("blotato") == []

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] == later
    assert len(harness.published("blotato")) == 1


def test_an_edit_whose_update_waits_for_a_reconnect_past_the_old_slot_ends_published_once(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule_youtube(harness, user_a, vertical_video)
    _stage(harness, target_id)
    video_id = harness.target(target_id)["step_data"]["video_id"]
    harness.fault("youtube", "update", "expired_token")
    later = SLOT + timedelta(hours=2)
    edit_target(harness.rt, as_user(user_a), target_id,
                TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC"))
    harness.run(until=SLOT - timedelta(seconds=30))
    parked = harness.target(target_id)
    assert parked["state"] == "needs_reconnect", (parked["state"], parked["user_message"])

    # Reconnected only after the old slot: YouTube had already made it public then.
    harness.clock.now = SLOT + timedelta(minutes=10)
    account = harness.account_id(str(parked["connection_id"]))
    harness.connect(user_a, "youtube", sandbox_account=account)
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["platform_post_id"] == video_id
    assert youtube_sandbox.live_at(harness.sandbox.sandbox, video_id) == SLOT.timestamp()
    assert len(harness.published("youtube")) == 1


@pytest.fixture(scope="module")
def mpeg4_video(media_dir):
    """MPEG-4 Part 2 video: TikTok refuses the codec, so it gets a converted copy before its upload."""
    from shared.media.samples import make_video

    return make_video(media_dir / "staging-mpeg4.mp4", seconds=4, width=540, height=960, video_codec="mpeg4")


TIKTOK_CREATOR_INFO = "POST /tiktok/v2/post/publish/creator_info/query/"
TIKTOK_INIT = "POST /tiktok/v2/post/publish/video/init/"


def _tiktok_converted_copy(harness: Harness, target_id: str) -> dict | None:
    from shared.media.renditions import conversion_kind

    with harness.db.service() as conn:
        return conn.execute(
            "select r.storage_path, r.created_at from video_renditions r join posts p on p.video_id = r.video_id "
            "join publish_targets t on t.post_id = p.id where t.id = %s and r.kind = %s",
            (target_id, conversion_kind("tiktok"))).fetchone()


def test_tiktok_direct_is_converted_and_checked_ahead_and_only_uploads_at_the_slot(
    staged: Harness, user_a, mpeg4_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, mpeg4_video, "tiktok")
    assert harness.target(target_id)["next_attempt_at"] == SLOT - LEAD
    assert _tiktok_converted_copy(harness, target_id) is None
    requests_before = len(harness.adapter_requests)

    _stage(harness, target_id)
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["staged"] is True and waiting["step_data"]["step"] == "init"
    assert waiting["step_data"]["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert waiting["next_attempt_at"] == SLOT
    # The converted copy exists before the slot; TikTok was asked about the creator, and nothing was sent.
    assert _tiktok_converted_copy(harness, target_id) is not None
    staging_calls = harness.adapter_requests[requests_before:]
    assert TIKTOK_CREATOR_INFO in staging_calls and TIKTOK_INIT not in staging_calls
    assert harness.published("tiktok") == []

    at_slot = len(harness.adapter_requests)
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] >= SLOT
    # At the slot the upload starts at once: no creator_info, and the copy made ahead is the one sent.
    assert harness.adapter_requests[at_slot] == TIKTOK_INIT
    assert TIKTOK_CREATOR_INFO not in harness.adapter_requests[at_slot:]
    with harness.db.service() as conn:
        copies = conn.execute(
            "select count(*) as n from video_renditions r join posts p on p.video_id = r.video_id "
            "join publish_targets t on t.post_id = p.id where t.id = %s and r.kind like 'converted%%'",
            (target_id,)).fetchone()
    assert copies["n"] == 1
    (entry,) = harness.published("tiktok")
    assert entry["caption"].startswith("Spring sale")


def test_cancel_after_staging_tiktok_only_drops_the_staged_state(staged: Harness, user_a, vertical_video) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "tiktok")
    _stage(harness, target_id)
    assert harness.target(target_id)["step_data"]["staged"] is True
    before = len(harness.adapter_requests)

    view = cancel_target(harness.rt, as_user(user_a), target_id)
    assert view["state"] == "canceled"
    harness.clock.now = SLOT + timedelta(minutes=5)
    harness.tick()
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "canceled" and final["next_attempt_at"] is None
    assert "unstage" not in final["step_data"]
    assert harness.adapter_requests[before:] == []          # nothing was on TikTok to remove
    assert harness.published("tiktok") == []


def test_editing_a_staged_tiktok_post_checks_again_and_uploads_once_at_the_new_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id = _schedule(harness, user_a, vertical_video, "tiktok")
    _stage(harness, target_id)
    later = SLOT + timedelta(hours=2)

    view = edit_target(harness.rt, as_user(user_a), target_id,
                       TargetEdit(publish_at=later.replace(tzinfo=None), timezone="UTC", caption="new words"))
    assert view["state"] == "scheduled" and view["scheduled_at"] == later
    edited = harness.target(target_id)
    assert "staged" not in edited["step_data"] and edited["next_attempt_at"] == later - LEAD

    harness.run(until=later - timedelta(seconds=30))
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled", (waiting["state"], waiting["user_message"])
    assert waiting["step_data"]["staged"] is True and waiting["next_attempt_at"] == later
    assert waiting["step_data"]["post_info"]["title"].startswith("new words")
    assert harness.published("tiktok") == []                 # nothing at the old slot

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] >= later
    (entry,) = harness.published("tiktok")
    assert entry["caption"].startswith("new words")


def _schedule_youtube_without_force_ssl(harness: Harness, user: dict[str, str], video) -> tuple[str, str]:
    """A YouTube connection granted upload and read but not youtube.force-ssl (connected before we asked
    for it, or the user unticked it on Google's consent screen)."""
    connection_id = harness.connect(user, "youtube", sandbox_unticked="youtube.force-ssl")
    assert not any(s.endswith("youtube.force-ssl") for s in harness.connection(connection_id)["scopes"])
    answer = harness.publish(user, video_id=harness.video(user, video), caption="Spring sale starts today!",
                             targets=[{"platform": "youtube", "title": "Spring sale"}],
                             publish_at=SLOT.strftime("%Y-%m-%dT%H:%M"), timezone="UTC")
    return str(answer["targets"][0]["target_id"]), connection_id


NOT_STAGED_MESSAGE = ("This video starts uploading to YouTube Shorts at its scheduled time, so it may go live a few "
                      "minutes later. Reconnect YouTube Shorts once, and your scheduled posts will go live exactly "
                      "on time.")


def test_youtube_without_force_ssl_is_not_staged_and_a_cancel_needs_nothing_on_youtube(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id, connection_id = _schedule_youtube_without_force_ssl(harness, user_a, vertical_video)
    second = harness.publish(user_a, video_id=harness.video(user_a, vertical_video), caption="Another one",
                             targets=[{"platform": "youtube", "title": "Another"}],
                             publish_at=SLOT.strftime("%Y-%m-%dT%H:%M"), timezone="UTC")
    second_id = str(second["targets"][0]["target_id"])
    before = len(harness.adapter_requests)
    harness.run(until=SLOT - timedelta(seconds=30))

    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled" and "staged" not in waiting["step_data"]
    assert waiting["next_attempt_at"] == SLOT
    assert waiting["user_message"] == NOT_STAGED_MESSAGE
    assert harness.target(second_id)["user_message"] == NOT_STAGED_MESSAGE
    # One mail for the connection, however many of its posts wait for their slot.
    with harness.db.service() as conn:
        mails = conn.execute("select subject, body from notifications where dedupe_key = %s",
                             (f"reconnect_for_exact_time:{connection_id}",)).fetchall()
    assert [m["subject"] for m in mails] == ["Reconnect YouTube Shorts so scheduled videos go live exactly on time"]
    assert "/connections" in mails[0]["body"]
    sb = harness.sandbox.sandbox
    assert sb.store("youtube").get("videos", {}) == {}             # nothing uploaded ahead
    assert harness.adapter_requests[before:] == []

    view = cancel_target(harness.rt, as_user(user_a), target_id)
    assert view["state"] == "canceled"
    cancel_target(harness.rt, as_user(user_a), second_id)
    harness.clock.now = SLOT + timedelta(minutes=5)
    harness.tick()
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "canceled" and final["next_attempt_at"] is None
    assert sb.store("youtube").get("videos", {}) == {} and harness.published("youtube") == []
    assert harness.adapter_requests[before:] == []


def test_youtube_without_force_ssl_uploads_at_the_slot_and_a_reconnect_stages_the_next_post(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id, connection_id = _schedule_youtube_without_force_ssl(harness, user_a, vertical_video)
    harness.run(until=SLOT - timedelta(seconds=30))
    assert harness.target(target_id)["next_attempt_at"] == SLOT

    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["published_at"] >= SLOT and final["user_message"] is None
    video = harness.sandbox.sandbox.store("youtube")["videos"][final["platform_post_id"]]
    assert video["status"]["privacyStatus"] == "public" and "publishAt" not in video["status"]
    assert len(harness.published("youtube")) == 1

    # Reconnected with the scope: the next scheduled post is staged ahead again.
    harness.clock.now = SLOT + timedelta(hours=1)
    account = harness.account_id(connection_id)
    harness.connect(user_a, "youtube", sandbox_account=account)
    later = SLOT + timedelta(hours=3)
    answer = harness.publish(user_a, video_id=harness.video(user_a, vertical_video), caption="Next one",
                             targets=[{"platform": "youtube", "title": "Next"}],
                             publish_at=later.strftime("%Y-%m-%dT%H:%M"), timezone="UTC")
    next_id = str(answer["targets"][0]["target_id"])
    harness.run(until=later - timedelta(seconds=30))
    waiting = harness.target(next_id)
    assert waiting["step_data"]["staged"] is True and waiting["user_message"] is None


def test_youtube_without_force_ssl_requeued_by_the_tick_still_waits_for_the_slot(
    staged: Harness, user_a, vertical_video
) -> None:
    harness = staged
    target_id, _ = _schedule_youtube_without_force_ssl(harness, user_a, vertical_video)
    # Its lead-time task never ran: the tick re-queues it once overdue (a new task number).
    harness.clock.now = SLOT - LEAD + timedelta(minutes=5)
    assert target_id in harness.tick()
    assert harness.target(target_id)["state"] == "queued"

    harness.run(until=SLOT - timedelta(seconds=30))
    waiting = harness.target(target_id)
    assert waiting["state"] == "scheduled" and waiting["next_attempt_at"] == SLOT
    assert waiting["user_message"] == NOT_STAGED_MESSAGE
    assert harness.sandbox.sandbox.store("youtube").get("videos", {}) == {}
    harness.run()
    final = harness.target(target_id)
    assert final["state"] == "published" and final["published_at"] >= SLOT
