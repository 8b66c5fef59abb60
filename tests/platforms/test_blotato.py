"""Blotato adapter against the Blotato sandbox over real HTTP, driven step by step like a worker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.platforms import adapter_class
from shared.platforms.base import Credentials, PublishJob
from shared.platforms.blotato import BlotatoAdapter, BlotatoSettings
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from tests.support.steps import drive, faults_on, publish_job

add_fault = faults_on("blotato")

ACCOUNT = "98432"


@pytest.fixture
def blotato(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 0
    sb.add_account("blotato", ACCOUNT, owner="user-1", network="tiktok", username="sunny.bakes", fullname="Sunny")
    key = sb.mint_token("blotato", "user-1").value
    settings = BlotatoSettings(api_base=sandbox.url + "/blotato", poll_seconds=0, reconcile_settle_seconds=0)
    adapter = BlotatoAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    return sb, adapter, key


def make_job(sample_video, key: str, **options: Any) -> PublishJob:
    return publish_job(
        target_id="target-123",
        credentials=Credentials(access_token=key, account_id=ACCOUNT),
        video=sample_video,
        caption="Fresh sourdough in 30 seconds",
        hashtags=("baking", "#bread"),
        options={"privacy_level": "PUBLIC_TO_EVERYONE", **options},
    )


def test_registered_with_its_network() -> None:
    cls = adapter_class("blotato")
    assert cls is BlotatoAdapter
    assert (cls.network, cls.display_name) == ("tiktok", "TikTok (via Blotato)")
    assert cls.steps["create_post"].irreversible and not cls.steps["check_status"].irreversible
    assert {q.limit for q in cls.quotas} == {30, 10, 60}


def test_publishes_once_with_the_right_bytes_and_caption(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key, disable_duet=True)
    outcome, data = drive(adapter, job)
    posts = sb.published_for("blotato")
    assert len(posts) == 1
    assert posts[0]["sha256"] == sample_video.sha256()
    assert posts[0]["caption"] == "Fresh sourdough in 30 seconds #baking #bread"
    assert posts[0]["target"]["disabledDuet"] is True and posts[0]["target"]["isAiGenerated"] is True
    assert outcome.published is not None
    assert outcome.published.platform_post_id == data["post_submission_id"]
    assert outcome.published.url == f"https://www.tiktok.com/@sunny.bakes/video/{posts[0]['post_id']}"


def test_upload_media_first_posts_the_blotato_copy(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    outcome, data = drive(adapter, make_job(sample_video, key, upload_media_first=True))
    assert "/blotato/database/" in data["media_url"]
    posts = sb.published_for("blotato")
    assert len(posts) == 1 and posts[0]["sha256"] == sample_video.sha256()
    assert posts[0]["marker"] == data["media_url"]


def test_server_error_is_transient_and_a_retry_publishes(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "get_post", "server_error")
    outcome = adapter.run_step("create_post", job, data)
    data.update(outcome.data)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("check_status", job, data)
    assert caught.value.code == "9999"
    assert "retry automatically" in caught.value.user_message
    outcome, _ = drive(adapter, job, "check_status", data)
    assert outcome.published is not None and len(sb.published_for("blotato")) == 1


def test_timeout_is_transient(blotato, sample_video) -> None:
    sb, _, key = blotato
    adapter = BlotatoAdapter(BlotatoSettings(api_base=blotato[1].settings.api_base),
                             http=httpx.Client(timeout=httpx.Timeout(0.5)))
    add_fault(sb, "media", "timeout", delay_s=1.5)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("stage_media", make_job(sample_video, key, upload_media_first=True), {})
    assert caught.value.code == "network"


def test_invalid_key_is_an_auth_error(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    add_fault(sb, "create_post", "expired_token")
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    with pytest.raises(AuthError) as caught:
        adapter.run_step("create_post", job, data)
    assert caught.value.status == 401 and "Reconnect" in caught.value.user_message
    stale = make_job(sample_video, "not-a-key")
    with pytest.raises(AuthError):
        adapter.run_step("create_post", stale, data)
    assert sb.published_for("blotato") == []


def test_rate_limit_is_quota_with_reset_time(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    add_fault(sb, "create_post", "rate_limited", params={"retry_in": 42})
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("create_post", job, data)
    assert caught.value.retry_at is not None
    assert 41 <= (caught.value.retry_at - before).total_seconds() <= 45


def test_validation_error_is_permanent(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    wrong_account = publish_job(target_id="t", credentials=Credentials(key, "no-such-account"), video=sample_video)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("create_post", wrong_account, data)
    assert caught.value.status == 422 and "still connected in Blotato" in caught.value.user_message
    assert "not found" in str(caught.value.detail)


def test_rejected_codec_fails_permanently_in_plain_words(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    add_fault(sb, "processing", "rejected_codec")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sample_video, key))
    assert caught.value.code == "video_format"
    assert caught.value.user_message.startswith("TikTok could not process this video's format")
    assert "codec" in caught.value.detail["errorMessage"]
    assert sb.published_for("blotato") == []


def test_processing_error_is_permanent_not_retried_blindly(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    add_fault(sb, "processing", "processing_error", params={"message": "Something odd happened"})
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sample_video, key))
    assert caught.value.code == "failed" and "Something odd" not in caught.value.user_message


def test_lost_create_answer_reconciles_to_the_existing_post(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "lost_response")
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    outcome = adapter.reconcile("create_post", job, data)
    assert outcome is not None and outcome.published is not None
    assert outcome.published.url and outcome.published.url.startswith("https://www.tiktok.com/@sunny.bakes/video/")
    assert len(sb.published_for("blotato")) == 1


def test_reconcile_keeps_asking_while_a_lost_post_may_still_be_processing(blotato, sample_video) -> None:
    sb, _, key = blotato
    sb.config["processing_seconds"] = 30
    adapter = BlotatoAdapter(BlotatoSettings(api_base=blotato[1].settings.api_base, poll_seconds=0,
                                             reconcile_settle_seconds=120))
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "lost_response")
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    # Not listed yet (Blotato lists finished posts only): unknown, so nothing is posted again.
    with pytest.raises(TransientError) as caught:
        adapter.reconcile("create_post", job, data)
    assert caught.value.code == "outcome_unknown"
    sb.config["processing_seconds"] = 0
    outcome = adapter.reconcile("create_post", job, data)
    assert outcome is not None and outcome.published is not None
    assert len(sb.published_for("blotato")) == 1 and len(sb.store("blotato")["posts"]) == 1


def test_lost_answer_for_our_own_url_is_unknown_not_posted_again(blotato, sample_video) -> None:
    """Blotato lists its own copy of a URL we host, so the list cannot confirm it: keep asking."""
    sb, adapter, key = blotato
    job = make_job(sample_video, key, upload_media_first=False)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "lost_response")
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    listed = httpx.get(f"{adapter.settings.api_base}/v2/posts", headers={"blotato-api-key": key}).json()["items"]
    assert len(listed) == 1 and listed[0]["mediaUrls"] != [data["media_url"]]   # re-hosted
    with pytest.raises(TransientError) as caught:
        adapter.reconcile("create_post", job, data)
    assert caught.value.code == "outcome_unknown"
    assert "checking with TikTok (via Blotato)" in caught.value.user_message
    assert len(sb.store("blotato")["posts"]) == 1


def test_lost_answer_for_a_post_that_failed_reports_the_failure(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "lost_response")
    add_fault(sb, "processing", "rejected_codec")
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    outcome = adapter.reconcile("create_post", job, data)
    assert outcome is not None and outcome.next_step == "confirm_create"
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("confirm_create", job, data | outcome.data)
    assert caught.value.code == "video_format"
    assert len(sb.store("blotato")["posts"]) == 1


def test_same_caption_from_another_import_is_not_taken_for_ours(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    drive(adapter, job)   # an earlier post with the same text
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "reset")   # this create never arrived
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    assert adapter.reconcile("create_post", job, data) is None
    outcome, _ = drive(adapter, job, "create_post", data)
    assert outcome.published is not None and len(sb.published_for("blotato")) == 2


def test_create_that_never_arrived_is_safe_to_redo(blotato, sample_video) -> None:
    sb, adapter, key = blotato
    job = make_job(sample_video, key)
    data = adapter.run_step("stage_media", job, {}).data
    add_fault(sb, "create_post", "reset")
    with pytest.raises(TransientError):
        adapter.run_step("create_post", job, data)
    assert adapter.reconcile("create_post", job, data) is None
    outcome, _ = drive(adapter, job, "create_post", data)
    assert outcome.published is not None and len(sb.published_for("blotato")) == 1


def test_sandbox_serves_account_lookup(blotato) -> None:
    sb, adapter, key = blotato
    base = adapter.settings.api_base
    me = httpx.get(base + "/v2/users/me", headers={"blotato-api-key": key}).json()
    assert me["id"] == "user-1"
    accounts = httpx.get(base + "/v2/users/me/accounts", params={"platform": "tiktok"},
                         headers={"blotato-api-key": key}).json()
    assert accounts == {"items": [{"id": ACCOUNT, "platform": "tiktok", "fullname": "Sunny",
                                   "username": "sunny.bakes"}]}
    assert httpx.get(base + "/v2/users/me", headers={"blotato-api-key": "nope"}).status_code == 401
