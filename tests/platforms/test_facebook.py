"""Facebook Reels adapter against the sandbox over real HTTP, step by step like the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.platforms.base import Credentials, PublishedPost, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.facebook import FacebookAdapter, FacebookSettings
from tests.support.steps import drive_to_published as drive
from tests.support.steps import faults_on, publish_job

fault = faults_on("facebook")

PAGE = "104000000000001"
CAPTION = "Behind the scenes at the bakery #baking #reels"


@pytest.fixture
def fb(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 0
    sb.add_account("facebook", PAGE, kind="page", name="Corner Bakery")
    settings = FacebookSettings(graph_base=sandbox.url + "/facebook-graph", rupload_base=sandbox.url + "/rupload",
                                poll_seconds=0)
    adapter = FacebookAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    yield adapter, sb
    adapter.http.close()


def make_job(sb, video, *, token: str | None = None, options: dict | None = None,
             caption: str = CAPTION, title: str | None = "Bakery reel") -> PublishJob:
    token = token or sb.mint_token("facebook", PAGE).value
    return publish_job(
        target_id="target-fb-1",
        credentials=Credentials(access_token=token, account_id=PAGE),
        video=video,
        caption=caption,
        title=title,
        options=options or {},
    )


def test_publishes_a_reel_end_to_end(fb, sample_video) -> None:
    adapter, sb = fb
    published, data, ran = drive(adapter, make_job(sb, sample_video))
    posts = sb.published_for("facebook")
    assert len(posts) == 1
    assert posts[0]["sha256"] == sample_video.sha256() and posts[0]["size"] == sample_video.size
    assert posts[0]["caption"] == CAPTION and posts[0]["title"] == "Bakery reel"
    assert published == PublishedPost(data["video_id"], f"https://www.facebook.com/reel/{data['video_id']}/")
    assert ran == ["start", "upload", "finish", "check_status"]


def test_pull_from_url_lets_facebook_fetch_the_file(fb, sample_video) -> None:
    adapter, sb = fb
    drive(adapter, make_job(sb, sample_video, options={"pull_from_url": True}))
    assert sb.published_for("facebook")[0]["sha256"] == sample_video.sha256()


def test_dropped_upload_resumes_where_facebook_stopped(fb, sample_video) -> None:
    adapter, sb = fb
    job = make_job(sb, sample_video)
    data = adapter.run_step("start", job, {}).data
    fault(sb, "upload", "reset", after_bytes=100_000)
    outcome = adapter.run_step("upload", job, data)  # resumes inside the step from bytes_transfered
    assert outcome.next_step == "finish"
    video = sb.store("facebook")["videos"][data["video_id"]]
    assert video["received"] == sample_video.size
    assert video["offsets"] == [0, 100_000]  # the second request sent only what was missing
    drive(adapter, job, "finish", data)
    assert sb.published_for("facebook")[0]["sha256"] == sample_video.sha256()


def test_upload_dropped_40_times_after_progress_completes_in_one_step(fb, sample_video) -> None:
    """Stalls are counted, not faults: every drop after new bytes arrived costs nothing."""
    adapter, sb = fb
    job = make_job(sb, sample_video)
    data = adapter.run_step("start", job, {}).data
    fault(sb, "upload", "reset", after_bytes=5_000, times=40)
    outcome = adapter.run_step("upload", job, data)
    assert outcome.next_step == "finish"
    assert not any(f.times for f in sb.faults), "every drop happened"
    assert len(sb.store("facebook")["videos"][data["video_id"]]["offsets"]) == 41
    drive(adapter, job, "finish", data | outcome.data)
    assert sb.published_for("facebook")[0]["sha256"] == sample_video.sha256()


def test_upload_that_keeps_dropping_without_progress_is_transient_and_resumes_later(fb, sample_video) -> None:
    adapter, sb = fb
    job = make_job(sb, sample_video)
    data = adapter.run_step("start", job, {}).data
    fault(sb, "upload", "reset", after_bytes=50_000)
    # Then every resume is dropped before a byte arrives: stalls, up to the step's budget.
    fault(sb, "upload", "reset", after_bytes=0, times=adapter.settings.upload_resumes + 1)
    paused = adapter.run_step("upload", job, data)
    # The step made progress before it stalled: the next delivery goes on, with a fresh budget.
    assert paused.next_step == "upload" and paused.data == {"uploaded_bytes": 50_000}
    fault(sb, "upload", "reset", after_bytes=0, times=adapter.settings.upload_resumes + 1)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("upload", job, data)
    assert caught.value.code == "network"
    assert sb.store("facebook")["videos"][data["video_id"]]["received"] == 50_000
    drive(adapter, job, "upload", data)
    assert sb.published_for("facebook")[0]["sha256"] == sample_video.sha256()


def test_server_error_at_start_is_transient_and_safe_to_redo(fb, sample_video) -> None:
    adapter, sb = fb
    job = make_job(sb, sample_video)
    fault(sb, "start", "server_error")
    with pytest.raises(TransientError) as caught:
        adapter.run_step("start", job, {})
    assert "retry automatically" in caught.value.user_message
    assert adapter.reconcile("start", job, {}) is None
    drive(adapter, job)
    assert len(sb.published_for("facebook")) == 1


def test_expired_page_token_is_an_auth_error(fb, sample_video) -> None:
    adapter, sb = fb
    job = make_job(sb, sample_video, token=sb.mint_token("facebook", PAGE, ttl=-5).value)
    with pytest.raises(AuthError) as caught:
        adapter.run_step("start", job, {})
    assert caught.value.code == "190/463" and "reconnect" in caught.value.user_message
    fault(sb, "upload", "expired_token")
    with pytest.raises(AuthError):
        drive(adapter, make_job(sb, sample_video))
    assert sb.published_for("facebook") == []


def test_token_of_another_page_lacks_permission(fb, sample_video) -> None:
    adapter, sb = fb
    other = sb.mint_token("facebook", "104000000000999").value
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("start", make_job(sb, sample_video, token=other), {})
    assert caught.value.code == "200" and "permission" in caught.value.user_message


def test_thirty_reels_a_day_defers_until_the_oldest_ages_out(fb, sample_video) -> None:
    adapter, sb = fb
    sb.config["facebook.reels_per_24h"] = 1
    drive(adapter, make_job(sb, sample_video))
    first_at = datetime.fromtimestamp(sb.published_for("facebook")[0]["at"], UTC)
    with pytest.raises(QuotaError) as caught:
        drive(adapter, make_job(sb, sample_video))
    assert caught.value.code == "32" and caught.value.retry_at is not None
    assert abs(caught.value.retry_at - (first_at + timedelta(hours=24))) < timedelta(minutes=2)
    assert len(sb.published_for("facebook")) == 1


def test_rate_limit_uses_the_regain_access_header(fb, sample_video) -> None:
    adapter, sb = fb
    fault(sb, "start", "rate_limited", params={"minutes": 9, "code": 4})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start", make_job(sb, sample_video), {})
    assert caught.value.code == "4"
    assert before + timedelta(minutes=8) < caught.value.retry_at < before + timedelta(minutes=10)


def test_processing_error_is_permanent_with_a_plain_message(fb, sample_video) -> None:
    adapter, sb = fb
    fault(sb, "finish", "processing_error")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sb, sample_video))
    assert caught.value.code == "processing_error"
    assert "3 to 90 seconds" in caught.value.user_message
    assert sb.published_for("facebook") == []


def test_unsupported_codec_fails_processing(fb, media_dir, file_server) -> None:
    from shared.media.samples import make_video
    from shared.platforms.errors import FormatRefused

    adapter, sb = fb
    path = make_video(media_dir / "fb-mpeg4.mp4", seconds=1, video_codec="mpeg4")
    with pytest.raises(FormatRefused) as caught:  # the pipeline converts and retries once (EC-2)
        drive(adapter, make_job(sb, file_server.source(path)))
    assert caught.value.code == "unsupported_format"
    assert sb.published_for("facebook") == []


def test_waits_while_facebook_processes(fb, sample_video) -> None:
    adapter, sb = fb
    sb.config["processing_seconds"] = 0.5
    job = make_job(sb, sample_video)
    data: dict = {}
    for step in ("start", "upload", "finish"):
        data |= adapter.run_step(step, job, data).data
    first = adapter.run_step("check_status", job, data)
    assert first.next_step == "check_status" and first.published is None
    drive(adapter, job, "check_status", data)
    assert len(sb.published_for("facebook")) == 1


def test_lost_finish_answer_is_reconciled_without_posting_twice(fb, sample_video) -> None:
    adapter, sb = fb
    sb.config["processing_seconds"] = 0.3  # the reel is still processing when we ask
    job = make_job(sb, sample_video)
    data: dict = {}
    for step in ("start", "upload"):
        data |= adapter.run_step(step, job, data).data
    fault(sb, "finish", "finish_then_reset")
    with pytest.raises(TransientError):
        adapter.run_step("finish", job, data)
    recovered = adapter.reconcile("finish", job, data)
    assert recovered is not None and recovered.next_step == "check_status"
    published, _, _ = drive(adapter, job, recovered.next_step, data | recovered.data)
    assert published.platform_post_id == data["video_id"]
    assert len(sb.published_for("facebook")) == 1


def test_finish_that_did_not_happen_is_safe_to_redo(fb, sample_video) -> None:
    adapter, sb = fb
    job = make_job(sb, sample_video)
    data: dict = {}
    for step in ("start", "upload"):
        data |= adapter.run_step(step, job, data).data
    fault(sb, "finish", "timeout", delay_s=1.5)
    impatient = FacebookAdapter(adapter.settings, http=httpx.Client(timeout=httpx.Timeout(0.5)))
    with pytest.raises(TransientError) as caught:
        impatient.run_step("finish", job, data)
    assert caught.value.code == "network"
    assert adapter.reconcile("finish", job, data) is None
    drive(adapter, job, "finish", data)
    assert len(sb.published_for("facebook")) == 1
    impatient.http.close()
