"""TikTok Direct Post adapter against the TikTok sandbox over real HTTP, step by step like a worker."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared.platforms import adapter_class
from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.tiktok import TikTokAdapter, TikTokSettings
from shared.platforms.tiktok.chunks import MB
from tests.support.steps import drive, faults_on, publish_job

OPEN_ID = "open-id-5521"


@pytest.fixture
def tiktok(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 0
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", nickname="Sunny")
    settings = TikTokSettings(api_base=sandbox.url + "/tiktok", www_base="https://www.tiktok.com",
                              poll_seconds=0, chunk_bytes=5 * MB)
    adapter = TikTokAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    return sb, adapter, sb.mint_token("tiktok", OPEN_ID).value


@pytest.fixture(scope="session")
def big_file(media_dir, file_server):
    """11 MB of bytes: two chunks of 5 MB + 6 MB under TikTok's rules (TikTok's checks are on bytes here)."""
    path = media_dir / "eleven-mb.mp4"
    path.write_bytes(os.urandom(11 * MB))
    return file_server.source(path)


add_fault = faults_on("tiktok")


def make_job(video, token: str, **options: Any) -> PublishJob:
    return publish_job(
        target_id="target-42",
        credentials=Credentials(access_token=token, account_id=OPEN_ID, username="sunny.bakes"),
        video=video,
        caption="Fresh sourdough in 30 seconds",
        hashtags=("baking",),
        options={"privacy_level": "PUBLIC_TO_EVERYONE", **options},
    )


def run_until(adapter, job, stop_before: str, data: dict | None = None) -> dict:
    """Run steps until `stop_before` is next; return the merged data."""
    data = dict(data or {})
    step = adapter.first_step
    while step != stop_before:
        outcome = adapter.run_step(step, job, data)
        data.update(outcome.data)
        assert outcome.next_step is not None
        step = outcome.next_step
    return data


def test_registered_with_steps_and_quotas() -> None:
    cls = adapter_class("tiktok")
    assert cls is TikTokAdapter and cls.network == "tiktok" and cls.display_name == "TikTok"
    assert [s for s, d in cls.steps.items() if d.irreversible] == ["init", "upload"]
    assert {q.name: q.limit for q in cls.quotas}["tiktok_init"] == 6
    assert {q.name: q.limit for q in cls.quotas}["tiktok_status"] == 30
    # TikTok allows 20; one a minute stays free for connecting the account.
    assert {q.name: q.limit for q in cls.quotas}["tiktok_creator_info"] == 19


def test_publishes_the_sample_video_once(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    outcome, data = drive(adapter, make_job(sample_video, token))
    posts = sb.published_for("tiktok")
    assert len(posts) == 1
    assert posts[0]["sha256"] == sample_video.sha256() and posts[0]["size"] == sample_video.size
    assert posts[0]["caption"] == "Fresh sourdough in 30 seconds #baking"
    assert posts[0]["post_info"]["is_aigc"] is True
    assert data["total_chunk_count"] == 1 and data["chunk_size"] == sample_video.size
    assert outcome.published is not None
    assert outcome.published.platform_post_id == posts[0]["post_id"]
    assert outcome.published.url == f"https://www.tiktok.com/@sunny.bakes/video/{posts[0]['post_id']}"


def test_chunked_upload_resumes_across_steps(tiktok, big_file) -> None:
    sb, _, token = tiktok
    adapter = TikTokAdapter(TikTokSettings(api_base=tiktok[1].settings.api_base, poll_seconds=0,
                                           chunk_bytes=5 * MB, upload_bytes_per_step=5 * MB))
    job = make_job(big_file, token)
    data = run_until(adapter, job, "upload")
    assert (data["chunk_size"], data["total_chunk_count"]) == (5 * MB, 2)
    first = adapter.run_step("upload", job, data)
    assert first.next_step == "upload" and first.data["next_chunk"] == 1
    data.update(first.data)
    outcome, _ = drive(adapter, job, "upload", data)
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["sha256"] == big_file.sha256()


def test_connection_reset_mid_upload_resumes_from_the_failed_chunk(tiktok, big_file) -> None:
    sb, adapter, token = tiktok
    job = make_job(big_file, token)
    data = run_until(adapter, job, "upload")
    # Chunk 0 goes through; the connection drops 1 MB into chunk 1.
    add_fault(sb, "upload", "reset", after_bytes=MB, params={"at_chunk": 1})
    with pytest.raises(TransientError):
        adapter.run_step("upload", job, data)
    assert sb.store("tiktok")["publishes"][data["publish_id"]]["received"] == 5 * MB
    reconciled = adapter.reconcile("upload", job, data)
    assert reconciled is not None and reconciled.next_step == "upload" and reconciled.data["next_chunk"] == 1
    data.update(reconciled.data)
    drive(adapter, job, "upload", data)
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["sha256"] == big_file.sha256()


def test_stale_offset_is_corrected_from_the_range_mismatch(tiktok, big_file) -> None:
    sb, adapter, token = tiktok
    job = make_job(big_file, token)
    data = run_until(adapter, job, "upload")
    publish = sb.store("tiktok")["publishes"][data["publish_id"]]
    # Send chunk 0 ourselves, as if an earlier delivery did it and its answer was lost.
    with big_file.path.open("rb") as handle:
        head = handle.read(5 * MB)
    response = httpx.put(data["upload_url"], content=head, headers={
        "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{5 * MB - 1}/{11 * MB}"})
    assert response.status_code == 206 and publish["received"] == 5 * MB
    drive(adapter, job, "upload", data)   # next_chunk is still 0: TikTok answers 416, we resync
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["sha256"] == big_file.sha256()


def test_expired_upload_url_re_inits_without_double_post(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "upload")
    add_fault(sb, "upload", "expired_upload_url")
    outcome = adapter.run_step("upload", job, data)
    assert outcome.next_step == "init" and outcome.data["publish_id"] is None
    old_publish = data["publish_id"]
    data.update(outcome.data)
    drive(adapter, job, "init", data)
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["marker"] != old_publish


def test_pull_from_url_for_a_verified_prefix(tiktok, sample_video, file_server) -> None:
    sb, adapter, token = tiktok
    sb.config["tiktok.verified_url_prefixes"] = [file_server.url + "/"]
    outcome, data = drive(adapter, make_job(sample_video, token, upload_mode="PULL_FROM_URL"))
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["mode"] == "PULL_FROM_URL" and posts[0]["sha256"] == sample_video.sha256()
    assert "upload_url" not in data or data["upload_url"] is None


def test_pull_from_an_unverified_url_is_permanent(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token, upload_mode="PULL_FROM_URL")
    data = run_until(adapter, job, "init")
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("init", job, data)
    assert caught.value.code == "url_ownership_unverified" and caught.value.status == 403
    assert "contact support" in caught.value.user_message


def test_daily_cap_on_creator_info_is_quota_until_tomorrow(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    add_fault(sb, "creator_info", "quota")
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token), {})
    assert caught.value.code == "spam_risk_too_many_posts" and caught.value.status == 200
    assert caught.value.retry_at is not None and caught.value.retry_at.date() > datetime.now(UTC).date()
    assert "tomorrow" in caught.value.user_message


def test_real_daily_cap_counts_posts(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    sb.config["tiktok.daily_post_cap"] = 1
    drive(adapter, make_job(sample_video, token))
    with pytest.raises(QuotaError):
        drive(adapter, make_job(sample_video, token))
    assert len(sb.published_for("tiktok")) == 1


def test_banned_creator_is_permanent(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", banned=True)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token), {})
    assert caught.value.code == "spam_risk_user_banned_from_posting"


def test_expired_token_is_auth_error(tiktok, sample_video) -> None:
    sb, adapter, _ = tiktok
    expired = sb.mint_token("tiktok", OPEN_ID, ttl=-1).value
    with pytest.raises(AuthError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, expired), {})
    assert caught.value.code == "access_token_invalid" and caught.value.status == 401
    assert "reconnect" in caught.value.user_message.lower()


def test_init_rate_limit_is_quota_with_reset_time(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "init")
    add_fault(sb, "init", "rate_limited")
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("init", job, data)
    assert caught.value.status == 429 and caught.value.retry_at is not None
    assert 55 <= (caught.value.retry_at - before).total_seconds() <= 65


def test_server_error_is_transient_and_polling_continues(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "check_status")
    add_fault(sb, "status", "server_error")
    with pytest.raises(TransientError) as caught:
        adapter.run_step("check_status", job, data)
    assert caught.value.user_message.startswith("TikTok is experiencing issues")
    outcome, _ = drive(adapter, job, "check_status", data)
    assert outcome.published is not None and len(sb.published_for("tiktok")) == 1


def test_rejected_codec_is_permanent_in_plain_words(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    add_fault(sb, "processing", "rejected_codec")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sample_video, token))
    assert caught.value.code == "file_format_check_failed"
    assert "MP4 (H.264 video, AAC audio)" in caught.value.user_message
    assert sb.published_for("tiktok") == []


def test_internal_processing_failure_restarts_the_publish(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    add_fault(sb, "processing", "processing_error", params={"fail_reason": "internal"})
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "check_status")
    restart = adapter.run_step("check_status", job, data)
    assert restart.next_step == "creator_info" and restart.wait_seconds > 0 and restart.data["restarts"] == 1
    data.update(restart.data)
    outcome, _ = drive(adapter, job, "creator_info", data)
    assert outcome.published is not None and len(sb.published_for("tiktok")) == 1


def test_privacy_level_must_be_offered_by_the_creator(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", private=True)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token), {})
    assert caught.value.code == "privacy_level_option_mismatch"
    outcome, _ = drive(adapter, make_job(sample_video, token, privacy_level="FOLLOWER_OF_CREATOR"))
    assert outcome.published is not None


def test_creator_disabled_interactions_stay_disabled(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", duet_disabled=True, comment_disabled=True)
    drive(adapter, make_job(sample_video, token, disable_duet=False))
    info = sb.published_for("tiktok")[0]["post_info"]
    assert info["disable_duet"] is True and info["disable_comment"] is True and info["disable_stitch"] is False


def test_video_longer_than_the_creator_may_post_is_refused(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", max_video_post_duration_sec=180)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token, duration_seconds=200), {})
    assert "up to 180 seconds" in caught.value.user_message


def test_private_post_finishes_without_a_public_id(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    outcome, data = drive(adapter, make_job(sample_video, token, privacy_level="SELF_ONLY"))
    assert outcome.published is not None and outcome.published.platform_post_id == data["publish_id"]
    assert outcome.published.url is None and len(sb.published_for("tiktok")) == 1


def test_inbox_draft(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    outcome, data = drive(adapter, make_job(sample_video, token, send_to_inbox=True))
    assert data["status"] == "SEND_TO_USER_INBOX" and outcome.published is not None
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["draft"] is True and posts[0]["sha256"] == sample_video.sha256()


def test_lost_init_answer_is_safe_to_redo_for_file_upload(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "init")
    add_fault(sb, "init", "lost_response")
    with pytest.raises(TransientError):
        adapter.run_step("init", job, data)
    assert adapter.reconcile("init", job, data) is None
    drive(adapter, job, "init", data)
    assert len(sb.published_for("tiktok")) == 1   # the orphaned init never published


def test_lost_init_answer_for_pull_is_not_redone(tiktok, sample_video, file_server) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token, upload_mode="PULL_FROM_URL")
    with pytest.raises(PermanentError) as caught:
        adapter.reconcile("init", job, {"post_info": {}})
    assert "Check your TikTok profile" in caught.value.user_message


def test_persisted_init_reconciles_to_upload(tiktok, sample_video) -> None:
    _, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "upload")
    outcome = adapter.reconcile("init", job, data)
    assert outcome is not None and outcome.next_step == "upload"


def test_finished_upload_reconciles_to_status_without_a_second_post(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    before_upload = run_until(adapter, job, "upload")
    adapter.run_step("upload", job, before_upload)   # took effect; pretend its outcome was lost
    outcome = adapter.reconcile("upload", job, before_upload)
    assert outcome is not None and outcome.next_step == "check_status"
    drive(adapter, job, "check_status", before_upload)
    assert len(sb.published_for("tiktok")) == 1


def test_upload_that_never_arrived_is_safe_to_redo(tiktok, sample_video) -> None:
    sb, adapter, token = tiktok
    job = make_job(sample_video, token)
    data = run_until(adapter, job, "upload")
    add_fault(sb, "upload", "reset")
    with pytest.raises(TransientError):
        adapter.run_step("upload", job, data)
    assert adapter.reconcile("upload", job, data) is None
    drive(adapter, job, "upload", data)
    assert len(sb.published_for("tiktok")) == 1


# ------------------------------------------------------------- chunk answers and stalls


@pytest.fixture(scope="session")
def three_chunk_file(media_dir, file_server):
    """16 MB: chunks of 5, 5 and 6 MB."""
    path = media_dir / "sixteen-mb.mp4"
    path.write_bytes(os.urandom(16 * MB))
    return file_server.source(path)


def test_last_chunk_answered_200_completes_the_upload(tiktok, big_file) -> None:
    """Any 2xx is success in TikTok's transfer protocol; 200 on the last chunk must not fail the post."""
    sb, adapter, token = tiktok
    sb.config["tiktok.complete_status"] = 200
    outcome, _ = drive(adapter, make_job(big_file, token))
    posts = sb.published_for("tiktok")
    assert outcome.published is not None
    assert len(posts) == 1 and posts[0]["sha256"] == big_file.sha256()


def test_odd_answer_to_the_last_chunk_is_checked_with_status_fetch_before_failing(tiktok, big_file) -> None:
    sb, adapter, token = tiktok
    sb.config["tiktok.complete_status"] = 500   # the bytes are stored, the answer says otherwise
    job = make_job(big_file, token)
    data = run_until(adapter, job, "upload")
    outcome = adapter.run_step("upload", job, data)
    assert outcome.next_step == "check_status"
    drive(adapter, job, "check_status", data | outcome.data)
    assert len(sb.published_for("tiktok")) == 1


def test_a_drop_after_chunks_went_through_hands_over_without_failing(tiktok, three_chunk_file) -> None:
    """Stalls are counted, not faults: chunks accepted in this step make the next delivery go on."""
    sb, adapter, token = tiktok
    job = make_job(three_chunk_file, token)
    data = run_until(adapter, job, "upload")
    add_fault(sb, "upload", "reset", after_bytes=MB, params={"at_chunk": 1})
    paused = adapter.run_step("upload", job, data)
    assert paused.next_step == "upload" and paused.data == {"next_chunk": 1}
    drive(adapter, job, "upload", data | paused.data)
    posts = sb.published_for("tiktok")
    assert len(posts) == 1 and posts[0]["sha256"] == three_chunk_file.sha256()
