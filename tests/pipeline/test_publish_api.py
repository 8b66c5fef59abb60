"""The publish-video function over its HTTP interface: validation, idempotency, budgets, wait, RLS, bulk."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from shared.publishing import bulk
from tests.pipeline.api import call
from tests.pipeline.flows import target_request
from tests.support.stack import Harness


@pytest.fixture
def video_a(harness: Harness, user_a, vertical_video) -> str:
    return harness.video(user_a, vertical_video)


def _body(video_id: str, *platforms: str, **extra: object) -> dict:
    return {"video_id": video_id, "caption": "Hello", "targets": [target_request(p) for p in platforms], **extra}


def _posts_of(harness: Harness, user: dict[str, str]) -> int:
    with harness.db.service() as conn:
        return conn.execute("select count(*) as n from posts where user_id = %s", (user["sub"],)).fetchone()["n"]


def test_captions_and_titles_over_the_limits_are_refused_with_counts(
    harness: Harness, monkeypatch, user_a, video_a
) -> None:
    harness.connect(user_a, "tiktok")
    harness.connect(user_a, "youtube")
    # 1,101 emoji: 1,101 characters to a person, 2,202 UTF-16 units to TikTok.
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                        json={**_body(video_a, "tiktok"), "caption": "😀" * 1101})
    assert status == 422, body
    assert "TikTok allows 2200 characters in the caption; this one has 2202. Please shorten it by 2." \
        in body["message"]

    youtube = {"platform": "youtube", "title": "x" * 101}
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                        json={"video_id": video_a, "caption": "é" * 2600, "targets": [youtube]})
    assert status == 422, body
    assert "YouTube Shorts allows 5000 bytes in the caption; this one has 5200." in body["message"]
    assert "YouTube Shorts allows 100 characters in the title; this one has 101." in body["message"]
    assert _posts_of(harness, user_a) == 0


def test_platform_not_connected_and_someone_elses_video(
    harness: Harness, monkeypatch, user_a, user_b, video_a
) -> None:
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a, json=_body(video_a, "instagram"))
    assert status == 422
    assert body["message"] == "Connect your Instagram Reels account first, then publish again."

    harness.connect(user_b, "instagram")
    status, body = call(harness, monkeypatch, "POST", "/", user=user_b, json=_body(video_a, "instagram"))
    assert status == 404
    assert body["message"] == "We couldn't find that video. Please upload it again."
    assert _posts_of(harness, user_b) == 0


def test_someone_elses_or_a_disconnected_connection_is_refused(
    harness: Harness, monkeypatch, user_a, user_b, vertical_video
) -> None:
    # Users hold no insert right on targets (docs/security.md): the API's own checks are what stop this.
    victims = harness.connect(user_a, "youtube")
    video_b = harness.video(user_b, vertical_video)
    body = {"video_id": video_b, "caption": "Hello",
            "targets": [{**target_request("youtube"), "connection_id": victims}]}
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_b, json=body)
    assert status == 422, answer
    assert answer["message"] == "Connect your YouTube Shorts account first, then publish again."

    own = harness.connect(user_b, "youtube")
    with harness.db.service() as conn:
        conn.execute("update social_connections set status = 'disconnected' where id = %s", (own,))
    body["targets"] = [{**target_request("youtube"), "connection_id": own}]
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_b, json=body)
    assert status == 422, answer
    assert _posts_of(harness, user_b) == 0


def test_idempotency_key_returns_the_same_post_once(harness: Harness, monkeypatch, user_a, video_a) -> None:
    harness.connect(user_a, "facebook")
    key = {"Idempotency-Key": "publish-spring-sale-1"}
    first_status, first = call(harness, monkeypatch, "POST", "/", user=user_a, json=_body(video_a, "facebook"),
                               headers=key)
    again_status, again = call(harness, monkeypatch, "POST", "/", user=user_a, json=_body(video_a, "facebook"),
                               headers=key)
    assert (first_status, again_status) == (202, 200)
    assert again["post_id"] == first["post_id"]
    assert _posts_of(harness, user_a) == 1

    status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                        json={**_body(video_a, "facebook"), "caption": "Other text"}, headers=key)
    assert status == 422
    assert body["message"] == "This Idempotency-Key was already used for a different publish request."
    harness.run()
    assert len(harness.published("facebook")) == 1


def test_schedule_over_the_daily_budget_is_refused(harness: Harness, monkeypatch, user_a, video_a) -> None:
    from shared.platforms.youtube.publisher import YouTubeAdapter

    connection_id = harness.connect(user_a, "youtube")
    channel = harness.account_id(connection_id)
    rule = next(r for r in YouTubeAdapter.quotas if r.scope == "account")
    when = harness.clock.now + timedelta(hours=1)
    with harness.db.service() as conn:
        for _ in range(rule.limit):
            conn.execute("insert into platform_quota_usage (platform, scope, user_id, used_at) "
                         "values ('youtube', %s, %s, %s)", (f"account:{channel}", user_a["sub"], when))
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                        json=_body(video_a, "youtube", publish_at=when.isoformat()))
    assert status == 409, body
    assert body["code"] == "over_platform_limit"
    assert body["message"].startswith(f"YouTube Shorts allows {rule.limit} posts per day for this account, and "
                                      f"{rule.limit} are already planned around ")
    assert body["message"].endswith("Please pick another time.")
    assert _posts_of(harness, user_a) == 0


def test_wait_answers_with_the_final_results(harness: Harness, monkeypatch, user_a, video_a) -> None:
    harness.connect(user_a, "facebook")
    harness.connect(user_a, "instagram")
    stop = threading.Event()

    def worker() -> None:  # Cloud Tasks delivering while the request waits
        while not stop.is_set():
            harness.run()
            time.sleep(0.02)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                            json=_body(video_a, "facebook", "instagram", wait=20))
    finally:
        stop.set()
        thread.join(timeout=10)
    assert status == 200, body
    assert body["done"] is True
    assert body["summary"] == "Published to 2 of 2 platforms."
    assert all(t["platform_url"] for t in body["targets"])


def test_every_state_change_of_a_platform_post_notifies_its_post(harness: Harness, monkeypatch, user_a,
                                                                  video_a) -> None:
    """What `wait` listens for (migration 20261201040000): a committed state change names its post."""
    import psycopg

    from shared.publishing.waiting import CHANNEL

    harness.connect(user_a, "facebook")
    tomorrow = (harness.clock.now + timedelta(days=1)).isoformat()
    status, created = call(harness, monkeypatch, "POST", "/", user=user_a,
                           json=_body(video_a, "facebook", publish_at=tomorrow))
    assert status == 202, created
    with psycopg.connect(harness.db.url, autocommit=True) as listener:
        listener.execute(f"listen {CHANNEL}")
        status, _ = call(harness, monkeypatch, "PATCH", f"/targets/{created['targets'][0]['target_id']}",
                         user=user_a, json={"caption": "Same state, new words"})
        assert status == 200
        assert list(listener.notifies(timeout=0.5)) == []  # an edit is no state change
        status, _ = call(harness, monkeypatch, "POST", f"/posts/{created['post_id']}/cancel", user=user_a)
        assert status == 200
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert [(note.channel, note.payload) for note in notes] == [(CHANNEL, created["post_id"])]


def test_wait_on_a_post_that_cannot_finish_answers_with_the_accepted_post(harness: Harness, monkeypatch, user_a,
                                                                          video_a) -> None:
    """Scheduled for tomorrow and the clock stands still: the wait ends with its seconds, as a 202."""
    harness.connect(user_a, "facebook")
    tomorrow = (harness.clock.now + timedelta(days=1)).isoformat()
    status, body = call(harness, monkeypatch, "POST", "/", user=user_a,
                        json=_body(video_a, "facebook", publish_at=tomorrow, wait=0.3))
    assert status == 202, body
    assert [t["state"] for t in body["targets"]] == ["scheduled"]


def test_another_user_cannot_see_or_change_posts(harness: Harness, monkeypatch, user_a, user_b, video_a) -> None:
    harness.connect(user_a, "facebook")
    status, created = call(harness, monkeypatch, "POST", "/", user=user_a,
                           json=_body(video_a, "facebook", publish_at=(harness.clock.now + timedelta(days=1))
                                      .isoformat()))
    assert status == 202, created
    post_id, target_id = created["post_id"], created["targets"][0]["target_id"]

    assert call(harness, monkeypatch, "GET", f"/posts/{post_id}", user=user_b)[0] == 404
    assert call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_b, json={"caption": "mine"})[0] \
        == 404
    assert call(harness, monkeypatch, "POST", f"/targets/{target_id}/cancel", user=user_b)[0] == 404
    assert call(harness, monkeypatch, "POST", f"/targets/{target_id}/retry", user=user_b)[0] == 404
    status, listing = call(harness, monkeypatch, "GET", "/posts", user=user_b)
    assert status == 200 and listing["items"] == []

    target = harness.target(target_id)
    assert (target["state"], target["caption"]) == ("scheduled", None)
    status, mine = call(harness, monkeypatch, "GET", f"/posts/{post_id}", user=user_a)
    assert status == 200 and mine["targets"][0]["can_cancel"] is True


def _bulk_body(video_ids: list[str]) -> dict:
    return {"items": [{"video_id": v} for v in video_ids], "caption": "Batch", "targets": [target_request("facebook")]}


def test_bulk_of_three_is_created_at_once_with_progress(
    harness: Harness, monkeypatch, user_a, vertical_video
) -> None:
    harness.connect(user_a, "facebook")
    videos = [harness.video(user_a, vertical_video) for _ in range(3)]
    harness.fault("facebook", "finish", "processing_error")
    status, body = call(harness, monkeypatch, "POST", "/bulk", user=user_a, json=_bulk_body(videos))
    assert status == 201, body
    assert body["videos"] == 3 and len(body["posts"]) == 3
    assert body["targets"]["pending"] == 3

    harness.run()
    status, progress = call(harness, monkeypatch, "GET", f"/batches/{body['batch_id']}", user=user_a)
    assert status == 200
    assert (progress["targets"]["done"], progress["targets"]["failed"], progress["targets"]["pending"]) == (2, 1, 0)
    assert progress["summary"] == "2 of 3 platform posts published, 1 failed."


def test_bulk_of_twelve_is_expanded_by_the_tick(harness: Harness, monkeypatch, user_a, vertical_video) -> None:
    harness.connect(user_a, "facebook")
    videos = [harness.video(user_a, vertical_video) for _ in range(12)]
    status, body = call(harness, monkeypatch, "POST", "/bulk", user=user_a, json=_bulk_body(videos))
    assert status == 202, body
    assert body["status"] == "accepted" and body["total"] == 12
    assert _posts_of(harness, user_a) == 0

    assert bulk.expand_pending(harness.rt) >= 1
    status, progress = call(harness, monkeypatch, "GET", f"/batches/{body['batch_id']}", user=user_a)
    assert progress["status"] == "expanded" and len(progress["posts"]) == 12
    assert progress["targets"] | {"by_state": None} == {"done": 0, "failed": 0, "pending": 12, "by_state": None}

    harness.run()
    status, progress = call(harness, monkeypatch, "GET", f"/batches/{body['batch_id']}", user=user_a)
    assert (progress["targets"]["done"], progress["targets"]["pending"]) == (12, 0)
    assert len(harness.published("facebook")) == 12
