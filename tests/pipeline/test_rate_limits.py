"""NFR-6 per minute: a 30-video bulk to one TikTok account never meets TikTok's 429.

TikTok allows 6 video/init and 30 status/fetch calls per minute per user token; the sandbox
enforces both on the harness clock, and the pipeline paces the steps before calling.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from shared.platforms.tiktok import TikTokAdapter
from shared.publishing import bulk
from shared.publishing.requests import BulkPublishRequest
from tests.pipeline.flows import target_request
from tests.support.stack import Harness, as_user

VIDEOS = 30


def test_thirty_video_bulk_to_one_tiktok_account_sees_no_429(
    harness: Harness, monkeypatch, user_a, vertical_video
) -> None:
    # TikTok's daily cap per creator is unpublished (we assume 15): lift it, this test is about minutes.
    monkeypatch.setattr(TikTokAdapter, "quotas", tuple(
        dataclasses.replace(rule, limit=1000) if rule.window == "rolling_24h" else rule
        for rule in TikTokAdapter.quotas))
    sb = harness.sandbox.sandbox
    sb.config["tiktok.processing_seconds"] = 0

    def on_harness_clock(payload: dict) -> str:
        sb.config["tiktok.clock"] = harness.clock.now.timestamp()
        return harness.advance(payload)

    harness.deliver = on_harness_clock
    harness.connect(user_a, "tiktok")
    video_ids = [harness.video(user_a, vertical_video) for _ in range(VIDEOS)]
    request = BulkPublishRequest.model_validate({"items": [{"video_id": v} for v in video_ids],
                                                 "caption": "Batch", "targets": [target_request("tiktok")]})
    answer, status = bulk.submit(harness.rt, as_user(user_a), request, b"{}")
    assert status == 202
    started = harness.clock.now
    assert bulk.expand_pending(harness.rt) == 1
    harness.run(max_tasks=2000)

    assert sb.store("tiktok").get("rate_limited", []) == []
    published = harness.published("tiktok")
    assert len(published) == VIDEOS
    # Paced, not refused: 30 inits at 6 a minute take at least four more minutes of (harness) time.
    assert harness.clock.now - started >= timedelta(minutes=4)
    deferred = [row for _, outcome, row in harness.history if outcome == "deferred"]
    codes = {row["error_code"] for row in deferred}
    assert "tiktok_init" in codes and codes <= {"tiktok_init", "tiktok_status", "tiktok_creator_info"}


def test_bulk_through_blotato_stays_within_its_minute_limits(harness: Harness, user_a, vertical_video) -> None:
    sb = harness.sandbox.sandbox
    sb.config["blotato.processing_seconds"] = 0

    def on_harness_clock(payload: dict) -> str:
        sb.config["blotato.clock"] = harness.clock.now.timestamp()
        return harness.advance(payload)

    harness.deliver = on_harness_clock
    harness.connect_blotato(user_a)
    count = 35  # more than Blotato's 30 posts a minute
    video_ids = [harness.video(user_a, vertical_video) for _ in range(count)]
    request = BulkPublishRequest.model_validate({"items": [{"video_id": v} for v in video_ids],
                                                 "caption": "Batch", "targets": [target_request("blotato")]})
    bulk.submit(harness.rt, as_user(user_a), request, b"{}")
    started = harness.clock.now
    bulk.expand_pending(harness.rt)
    harness.run(max_tasks=2000)

    assert sb.store("blotato").get("rate_limited", []) == []
    assert len(harness.published("blotato")) == count
    assert harness.clock.now - started >= timedelta(minutes=1)


def test_tiktok_status_reads_of_a_reconcile_are_paced_like_status_checks(harness: Harness, monkeypatch, user_a,
                                                                       vertical_video) -> None:
    from shared.publishing import quota
    from tests.pipeline.flows import publish

    sb = harness.sandbox.sandbox
    sb.config["tiktok.processing_seconds"] = 0

    def on_harness_clock(payload: dict) -> str:
        sb.config["tiktok.clock"] = harness.clock.now.timestamp()
        return harness.advance(payload)

    harness.deliver = on_harness_clock
    answer = publish(harness, user_a, vertical_video, ["tiktok"],
                     before=lambda: harness.fault("tiktok", "upload", "reset", after_bytes=1000))
    target_id = str(answer["by_platform"]["tiktok"])
    for _ in range(20):
        if harness.target(target_id)["state"] == "reconciling":
            break
        harness.run(max_tasks=1)
    target = harness.target(target_id)
    assert target["state"] == "reconciling" and target["step_data"]["pending_call"]["step"] == "upload"

    # The account's status/fetch minute is used up (30 checks of other videos).
    (rule,) = [r for r in TikTokAdapter.quotas if r.name == "tiktok_status"]
    account = harness.account_id(str(target["connection_id"]))
    with harness.db.service() as conn:
        for _ in range(rule.limit):
            conn.execute("insert into platform_quota_usage (platform, scope, user_id, used_at) values "
                         "('tiktok', %s, %s, %s)", (quota.rate_scope(rule, account), target["user_id"],
                                                   harness.clock.now))
    before = [r for r in harness.adapter_requests if r.endswith("/status/fetch/")]
    harness.clock.now = max(harness.clock.now, target["next_attempt_at"])
    harness.run(max_tasks=1)
    paced = harness.target(target_id)
    assert paced["state"] == "deferred" and paced["error_code"] == "tiktok_status"
    assert [r for r in harness.adapter_requests if r.endswith("/status/fetch/")] == before

    harness.run()
    assert harness.target(target_id)["state"] == "published"
    assert sb.store("tiktok").get("rate_limited", []) == []
