"""Instagram Reels adapter against the sandbox over real HTTP, step by step like the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob, StepOutcome
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.instagram import InstagramAdapter, InstagramSettings
from shared.platforms.instagram.errors import PERSONAL_ACCOUNT
from tests.support.steps import drive_to_published as drive
from tests.support.steps import faults_on, publish_job

fault = faults_on("instagram")

ACCOUNT = "17841400000000001"
CAPTION = "Morning light over the bay #sunrise #reels"


@pytest.fixture
def ig(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 0
    sb.add_account("instagram", ACCOUNT, username="baycreator", account_type="BUSINESS")
    settings = InstagramSettings(graph_base=sandbox.url + "/instagram-graph", poll_seconds=0)
    adapter = InstagramAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    yield adapter, sb
    adapter.http.close()


def make_job(sb, video, *, token: str | None = None, options: dict | None = None,
             caption: str = CAPTION) -> PublishJob:
    token = token or sb.mint_token("instagram", ACCOUNT).value
    return publish_job(
        target_id="target-ig-1",
        credentials=Credentials(access_token=token, account_id=ACCOUNT, username="baycreator"),
        video=video,
        caption=caption,
        options=options or {},
    )


def test_publishes_a_reel_end_to_end(ig, sample_video) -> None:
    adapter, sb = ig
    job = make_job(sb, sample_video, options={"share_to_feed": False, "is_ai_generated": True,
                                              "collaborators": ["@friend"], "thumb_offset": 1000})
    published, data, ran = drive(adapter, job)

    posts = sb.published_for("instagram")
    assert len(posts) == 1
    assert posts[0]["sha256"] == sample_video.sha256()
    assert posts[0]["caption"] == CAPTION
    assert published.platform_post_id == posts[0]["post_id"]
    assert published.url and published.url.startswith("https://www.instagram.com/reel/")
    # The publish step reads the reel's link itself: published with its link in one step.
    assert ran[:2] == ["check_account", "create_container"] and ran[-2:] == ["check_quota", "publish"]
    sent = sb.store("instagram")["containers"][data["container_id"]]["params"]
    assert sent["media_type"] == "REELS" and sent["share_to_feed"] == "false"
    assert sent["is_ai_generated"] == "true" and sent["collaborators"] == '["friend"]'
    assert sent["thumb_offset"] == "1000"


def test_personal_account_gets_the_conversion_guide(ig, sample_video) -> None:
    adapter, sb = ig
    sb.add_account("instagram", ACCOUNT, username="me", account_type="PERSONAL")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sb, sample_video))
    assert caught.value.user_message == PERSONAL_ACCOUNT
    assert "Business or Creator" in caught.value.user_message and "https://" in caught.value.user_message
    assert sb.published_for("instagram") == []


def test_server_error_is_transient_and_a_lost_container_is_redone(ig, sample_video) -> None:
    adapter, sb = ig
    job = make_job(sb, sample_video)
    fault(sb, "create_container", "server_error")
    data = adapter.run_step("check_account", job, {}).data
    with pytest.raises(TransientError) as caught:
        adapter.run_step("create_container", job, data)
    assert caught.value.code == "2" and "retry automatically" in caught.value.user_message
    assert adapter.reconcile("create_container", job, data) is None  # safe to redo
    drive(adapter, job, "create_container", data)
    assert len(sb.published_for("instagram")) == 1


def test_timeout_and_dropped_connection_are_transient(sandbox, ig, sample_video) -> None:
    _, sb = ig
    settings = InstagramSettings(graph_base=sandbox.url + "/instagram-graph", poll_seconds=0)
    impatient = InstagramAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(0.5)))
    job = make_job(sb, sample_video)
    data = impatient.run_step("check_account", job, {}).data
    data |= impatient.run_step("create_container", job, data).data
    fault(sb, "container_status", "timeout", delay_s=1.5)
    with pytest.raises(TransientError) as caught:
        impatient.run_step("check_container", job, data)
    assert caught.value.code == "network"
    fault(sb, "container_status", "reset")
    with pytest.raises(TransientError):
        impatient.run_step("check_container", job, data)
    published, _, _ = drive(impatient, job, "check_container", data)
    assert published.platform_post_id == sb.published_for("instagram")[0]["post_id"]
    impatient.http.close()


def test_expired_token_is_an_auth_error(ig, sample_video) -> None:
    adapter, sb = ig
    expired = sb.mint_token("instagram", ACCOUNT, ttl=-10).value
    job = make_job(sb, sample_video, token=expired)
    with pytest.raises(AuthError) as caught:
        adapter.run_step("create_container", job, {})
    assert caught.value.code == "190/463"
    assert "reconnect" in caught.value.user_message
    fault(sb, "publish", "expired_token")
    with pytest.raises(AuthError):
        drive(adapter, make_job(sb, sample_video))
    assert sb.published_for("instagram") == []


def test_full_publishing_limit_defers_until_the_oldest_post_ages_out(ig, sample_video) -> None:
    adapter, sb = ig
    sb.config["instagram.quota_total"] = 1
    drive(adapter, make_job(sb, sample_video, caption="first"))
    first_at = datetime.fromtimestamp(sb.published_for("instagram")[0]["at"], UTC)
    with pytest.raises(QuotaError) as caught:
        drive(adapter, make_job(sb, sample_video, caption="second"))
    err = caught.value
    assert err.code == "content_publishing_limit" and err.detail == {"quota_usage": 1, "quota_total": 1}
    assert err.retry_at is not None
    assert abs(err.retry_at - (first_at + timedelta(hours=24))) < timedelta(seconds=2)
    assert "24 hours" in err.user_message
    assert len(sb.published_for("instagram")) == 1


def test_rate_limit_uses_the_regain_access_header(ig, sample_video) -> None:
    adapter, sb = ig
    fault(sb, "create_container", "rate_limited", params={"minutes": 42, "code": 80002})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("create_container", make_job(sb, sample_video), {})
    assert caught.value.code == "80002"
    assert caught.value.retry_at is not None
    assert before + timedelta(minutes=41) < caught.value.retry_at < before + timedelta(minutes=43)


def test_daily_limit_at_publish_is_quota(ig, sample_video) -> None:
    adapter, sb = ig
    fault(sb, "publish", "quota")
    with pytest.raises(QuotaError) as caught:
        drive(adapter, make_job(sb, sample_video))
    assert caught.value.code == "9/2207042" and caught.value.retry_at is not None
    assert sb.published_for("instagram") == []


def test_unsupported_codec_is_refused_for_conversion(ig, media_dir, file_server) -> None:
    from shared.media.samples import make_video

    adapter, sb = ig
    path = make_video(media_dir / "ig-mpeg4.mp4", seconds=1, video_codec="mpeg4")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sb, file_server.source(path)))
    err = caught.value
    assert err.code == "2207026" and getattr(err, "fixable_by_conversion", False) is True
    assert "MP4" in err.user_message
    assert sb.published_for("instagram") == []


def test_failed_or_expired_container_is_recreated(ig, sample_video) -> None:
    adapter, sb = ig
    fault(sb, "create_container", "processing_error")
    fault(sb, "create_container", "expire")
    _, data, ran = drive(adapter, make_job(sb, sample_video))
    assert ran.count("create_container") == 3 and data["container_attempts"] == 3
    assert len(sb.published_for("instagram")) == 1


def test_container_that_keeps_failing_stops_with_a_plain_message(ig, sample_video) -> None:
    adapter, sb = ig
    fault(sb, "create_container", "processing_error", times=-1)
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sb, sample_video))
    assert "could not process" in caught.value.user_message


def test_unreachable_video_url_is_permanent(ig, sample_video, file_server) -> None:
    adapter, sb = ig
    missing = type(sample_video)(path=sample_video.path, url=file_server.url + "/no-such.mp4")
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sb, missing))
    assert caught.value.code == "2207052"


def test_publish_before_processing_finishes_goes_back_to_polling(ig, sample_video) -> None:
    adapter, sb = ig
    sb.config["processing_seconds"] = 0.6
    job = make_job(sb, sample_video)
    data = adapter.run_step("check_account", job, {}).data
    data |= adapter.run_step("create_container", job, data).data
    outcome = adapter.run_step("publish", job, data)  # 9007 / 2207027: not ready
    assert outcome == StepOutcome("check_container", {}, wait_seconds=0)
    assert adapter.run_step("check_container", job, data).next_step == "check_container"
    drive(adapter, job, "check_container", data)
    assert len(sb.published_for("instagram")) == 1


def _publish_with_lost_answer(adapter: InstagramAdapter, sb, sample_video) -> tuple[PublishJob, dict]:
    """media_publish acts, then the connection drops: the reel is live, the answer lost."""
    job = make_job(sb, sample_video)
    data: dict = {}
    for step in ("check_account", "create_container", "check_container", "check_quota"):
        data |= adapter.run_step(step, job, data).data
    fault(sb, "publish", "publish_then_reset")
    data["pending_call"] = {"step": "publish", "at": datetime.now(UTC).isoformat()}
    with pytest.raises(TransientError):
        adapter.run_step("publish", job, data)
    return job, data


def test_lost_publish_answer_is_reconciled_without_posting_twice(ig, sample_video) -> None:
    adapter, sb = ig
    job, data = _publish_with_lost_answer(adapter, sb, sample_video)
    recovered = adapter.reconcile("publish", job, data)
    post = sb.published_for("instagram")[0]
    # Took effect: published, with the reel found among the account's media and its link.
    assert recovered is not None and recovered.next_step is None and recovered.published is not None
    assert recovered.published.platform_post_id == post["post_id"]
    assert recovered.published.url and recovered.published.url.startswith("https://www.instagram.com/reel/")
    assert len(sb.published_for("instagram")) == 1


def test_lost_publish_answer_with_unreadable_media_is_published_and_the_link_follows(ig, sample_video) -> None:
    adapter, sb = ig
    job, data = _publish_with_lost_answer(adapter, sb, sample_video)
    fault(sb, "media_list", "server_error", times=2)
    recovered = adapter.reconcile("publish", job, data)
    # The container says PUBLISHED: live, so published now; the id and link are read later.
    assert recovered is not None and recovered.published is not None
    assert recovered.published.url is None and recovered.next_step == "fetch_result"
    published, _, _ = drive(adapter, job, recovered.next_step, data | recovered.data)
    assert published.platform_post_id == sb.published_for("instagram")[0]["post_id"]
    assert len(sb.published_for("instagram")) == 1


def test_publish_that_did_not_happen_is_safe_to_redo(ig, sample_video) -> None:
    adapter, sb = ig
    job = make_job(sb, sample_video)
    data: dict = {}
    for step in ("check_account", "create_container", "check_container", "check_quota"):
        data |= adapter.run_step(step, job, data).data
    fault(sb, "publish", "server_error")
    with pytest.raises(TransientError):
        adapter.run_step("publish", job, data)
    assert adapter.reconcile("publish", job, data) is None
    drive(adapter, job, "publish", data)
    assert len(sb.published_for("instagram")) == 1


def test_published_container_found_while_polling_is_not_published_again(ig, sample_video) -> None:
    adapter, sb = ig
    job = make_job(sb, sample_video)
    _, data, _ = drive(adapter, job)
    # A redelivered polling task after the publish: it must finish, not publish again.
    published, _, ran = drive(adapter, job, "check_container", {k: v for k, v in data.items() if k != "media_id"})
    assert ran == ["check_container"]
    assert published.platform_post_id == sb.published_for("instagram")[0]["post_id"]
    assert len(sb.published_for("instagram")) == 1
