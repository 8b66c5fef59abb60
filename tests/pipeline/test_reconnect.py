"""Expired or revoked tokens park the target (EC-3); reconnecting the same account resumes it."""

from __future__ import annotations

from datetime import timedelta

from tests.pipeline.flows import publish
from tests.support.stack import Harness


def _assert_parked(harness: Harness, user: dict[str, str], post_id: str, target_id: str, name: str) -> str:
    target = harness.target(target_id)
    assert target["state"] == "needs_reconnect"
    assert target["error_class"] == "auth"
    assert target["user_message"] == (
        f"Your {name} connection expired. Please reconnect to publish. "
        "Your video will publish automatically after reconnecting."
    )
    assert harness.connection(str(target["connection_id"]))["status"] == "expired"
    view = harness.post(user, post_id)
    assert view["summary"] == "Published to 0 of 1 platform, 1 waiting for you to reconnect."
    assert view["done"] is True
    return str(target["connection_id"])


def test_revoked_youtube_tokens_wait_for_reconnect_then_publish(harness: Harness, user_a, vertical_video) -> None:
    def revoke() -> None:
        connection = harness.db.service
        with connection() as conn:
            row = conn.execute("select platform_account_id from social_connections where user_id = %s",
                               (user_a["sub"],)).fetchone()
        harness.sandbox.sandbox.revoke_account_tokens("youtube", row["platform_account_id"])

    answer = publish(harness, user_a, vertical_video, ["youtube"], before=revoke)
    target_id = answer["by_platform"]["youtube"]
    harness.run()
    connection_id = _assert_parked(harness, user_a, answer["post_id"], target_id, "YouTube Shorts")
    assert harness.published("youtube") == []

    # The user reconnects the same channel through the real OAuth flow; the hook enqueues the target.
    account = harness.account_id(connection_id)
    assert harness.connect(user_a, "youtube", sandbox_account=account) == connection_id
    assert harness.connection(connection_id)["status"] == "connected"
    assert harness.target(target_id)["state"] == "queued"
    harness.run()

    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert final["user_message"] is None
    assert len(harness.published("youtube")) == 1


def test_expired_tiktok_token_resumes_through_the_tick_after_reconnect(
    harness: Harness, user_a, vertical_video
) -> None:
    answer = publish(harness, user_a, vertical_video, ["tiktok"],
                     before=lambda: harness.fault("tiktok", "init", "expired_token"))
    target_id = answer["by_platform"]["tiktok"]
    harness.run()
    connection_id = _assert_parked(harness, user_a, answer["post_id"], target_id, "TikTok")
    parked_seq = harness.target(target_id)["task_seq"]

    account = harness.account_id(connection_id)
    assert harness.connect(user_a, "tiktok", resume_hook=False, sandbox_account=account) == connection_id
    assert harness.queue.pending() == []
    resumed = harness.target(target_id)
    assert resumed["state"] == "queued" and resumed["task_seq"] > parked_seq
    # No hook: the tick's safety net picks the target up once its task counts as lost.
    harness.clock.now = max(harness.clock.now, resumed["next_attempt_at"]) + timedelta(minutes=3)
    assert target_id in harness.tick()
    harness.run()

    final = harness.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"])
    assert len(harness.published("tiktok")) == 1
