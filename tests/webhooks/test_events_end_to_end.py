"""Every event kind reaches a real HTTP receiver once per state change, signed per Standard Webhooks.

The state changes are the real pipeline's (sandbox over HTTP, real OAuth, real
worker); the events are written by the database triggers in the same transaction;
the webhook tick fans them out and each delivery is one task on the webhook queue.
"""

from __future__ import annotations

from datetime import timedelta

from shared.connections.warnings import enqueue_expiry_warnings
from shared.publishing import bulk
from shared.publishing.requests import BulkPublishRequest
from tests.pipeline.flows import NETWORKS, publish, target_request
from tests.support.stack import Harness, as_user
from tests.webhooks.conftest import Hooks, kinds, verified


def test_post_outcomes_arrive_once_each_signed_with_the_3_of_4_summary(
    harness: Harness, hooks: Hooks, receiver, user_a, vertical_video
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/hook")

    def faults() -> None:
        harness.fault("facebook", "finish", "processing_error", params={"message": "video could not be processed"})
        harness.fault("youtube", "insert", "quota")

    answer = publish(harness, user_a, vertical_video, NETWORKS, before=faults)
    harness.run()
    assert {t["platform"]: t["state"] for t in harness.post(user_a, answer["post_id"])["targets"]} == {
        "tiktok": "published", "instagram": "published", "youtube": "published", "facebook": "failed"}

    assert hooks.tick() == 6
    assert hooks.tick() == 0  # a second tick finds nothing new: each state change is announced once
    bodies = verified(receiver.to("/hook"), endpoint["secret"])
    assert kinds(bodies) == {"target.published": 3, "target.failed": 1, "target.deferred": 1, "post.completed": 1}
    assert len({body["_id"] for body in bodies}) == 6

    by_type = {body["type"]: body for body in bodies}
    completed = by_type["post.completed"]["data"]
    assert completed["post_id"] == answer["post_id"]
    assert completed["summary"] == "Published to 3 of 4 platforms, 1 failed."
    assert (completed["published"], completed["failed"], completed["total"]) == (3, 1, 4)
    assert {t["platform"]: t["state"] for t in completed["targets"]}["facebook"] == "failed"

    failed = by_type["target.failed"]["data"]
    assert failed["platform"] == "facebook" and failed["platform_name"] == "Facebook Reels"
    assert failed["target_id"] == answer["by_platform"]["facebook"] and "Facebook" in failed["message"]
    deferred = by_type["target.deferred"]["data"]
    assert deferred["platform_name"] == "YouTube Shorts" and "It will publish on" in deferred["message"]
    assert deferred["next_attempt_at"]
    published = [b["data"] for b in bodies if b["type"] == "target.published"]
    assert {p["platform"] for p in published} == {"tiktok", "instagram", "youtube"}
    assert all(p["platform_url"].startswith("http") and p["platform_post_id"] for p in published)


def test_reconnect_and_expiry_events(harness: Harness, hooks: Hooks, receiver, user_a, vertical_video) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/conn",
                              ["target.needs_reconnect", "connection.expired", "connection.expiring"])
    answer = publish(harness, user_a, vertical_video, ["tiktok"],
                     before=lambda: harness.fault("tiktok", "init", "expired_token"))
    harness.run()
    assert harness.target(answer["by_platform"]["tiktok"])["state"] == "needs_reconnect"

    # A YouTube connection whose reconnect-by time is 3 days away gets the 7-day reminder.
    youtube = harness.connect(user_a, "youtube")
    with harness.db.service() as conn:
        conn.execute("update social_connections set refresh_token_expires_at = %s where id = %s",
                     (harness.clock.now + timedelta(days=3), youtube))
    enqueue_expiry_warnings(harness.db, harness.clock.now)
    enqueue_expiry_warnings(harness.db, harness.clock.now)  # already reminded: no second event

    hooks.tick()
    bodies = verified(receiver.to("/conn"), endpoint["secret"])
    assert kinds(bodies) == {"target.needs_reconnect": 1, "connection.expired": 1, "connection.expiring": 1}
    by_type = {body["type"]: body["data"] for body in bodies}
    assert by_type["target.needs_reconnect"]["platform_name"] == "TikTok"
    assert "reconnect" in by_type["target.needs_reconnect"]["message"].lower()
    assert by_type["connection.expired"]["platform"] == "tiktok"
    assert by_type["connection.expiring"]["connection_id"] == youtube
    assert by_type["connection.expiring"]["expires_at"]
    # Only the types asked for: the post.completed of other posts never reached this endpoint.
    assert all(body["type"] != "post.completed" for body in bodies)


def test_batch_completed_once_every_post_of_the_batch_is_final(
    harness: Harness, hooks: Hooks, receiver, user_a, vertical_video
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/batch", ["batch.completed", "post.completed"])
    harness.connect(user_a, "facebook")
    videos = [harness.video(user_a, vertical_video) for _ in range(3)]
    harness.fault("facebook", "finish", "processing_error")
    request = BulkPublishRequest.model_validate({"items": [{"video_id": v} for v in videos], "caption": "Batch",
                                                 "targets": [target_request("facebook")]})
    progress, _ = bulk.submit(harness.rt, as_user(user_a), request, b"")

    hooks.tick()
    assert receiver.to("/batch") == []  # nothing final yet
    harness.run()
    hooks.tick()
    bodies = verified(receiver.to("/batch"), endpoint["secret"])
    assert kinds(bodies) == {"post.completed": 3, "batch.completed": 1}
    batch = next(b["data"] for b in bodies if b["type"] == "batch.completed")
    assert batch["batch_id"] == progress["batch_id"]
    assert (batch["posts"], batch["targets"], batch["published"], batch["failed"]) == (3, 3, 2, 1)


def test_a_user_without_endpoints_gets_no_deliveries_and_others_see_nothing(
    harness: Harness, hooks: Hooks, receiver, user_a, user_b, vertical_video
) -> None:
    hooks.register(user_b, receiver.url + "/other")
    publish(harness, user_a, vertical_video, ["instagram"])
    harness.run()
    hooks.tick()
    assert receiver.to("/other") == []
