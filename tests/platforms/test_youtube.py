"""YouTube adapter against the YouTube sandbox over real HTTP, driven step by step like a worker."""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from shared.platforms import adapter_class
from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.youtube import YouTubeAdapter, YouTubeSettings
from shared.platforms.youtube.errors import next_pacific_midnight
from tests.support import steps
from tests.support.steps import publish_job, step_clock

add_fault = steps.faults_on("youtube")
# YouTube's sandbox asks for short waits between polls: honour them, up to 0.2 s.
drive = partial(steps.drive, limit=50, wait_cap=0.2)

CHANNEL = "UCsandboxChannel000000001"
MIB = 1024 * 1024


@pytest.fixture
def youtube(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 0
    sb.add_account("youtube", CHANNEL, title="Sunny Bakes")
    token = sb.mint_token("youtube", CHANNEL).value
    return sb, make_adapter(sandbox), token


def make_adapter(sandbox, **overrides: Any) -> YouTubeAdapter:
    fast = {"upload_retry_wait_initial": 0.01, "upload_retry_wait_max": 0.05, "processing_poll_min_seconds": 0}
    settings = YouTubeSettings(api_base=sandbox.url + "/googleapis", analytics_base=sandbox.url + "/youtubeanalytics",
                               **{**fast, **overrides})
    return YouTubeAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(10.0)))


def make_job(video, token: str, cover=None, **options: Any) -> PublishJob:
    return publish_job(
        target_id="target-yt-1",
        credentials=Credentials(access_token=token, account_id=CHANNEL),
        video=video,
        caption="Fresh sourdough in 30 seconds",
        hashtags=("baking", "#bread"),
        options=options,
        cover=cover,
    )


def random_file(file_server, media_dir: Path, name: str, size: int):
    """A file of distinct pseudo-random blocks (quick to write, no two blocks alike)."""
    path = media_dir / name
    if not path.exists() or path.stat().st_size != size:
        block = os.urandom(MIB)
        with path.open("wb") as handle:
            written = 0
            while written < size:
                piece = (written.to_bytes(8, "big") + block[8:])[: size - written]
                handle.write(piece)
                written += len(piece)
    return file_server.source(path, content_type="video/mp4")


# ------------------------------------------------------------------------ success


def test_registered_with_steps_limits_and_quotas() -> None:
    cls = adapter_class("youtube")
    assert cls is YouTubeAdapter
    assert (cls.network, cls.display_name) == ("youtube", "YouTube Shorts")
    assert cls.steps["upload"].irreversible and not cls.steps["check_processing"].irreversible
    assert not cls.steps["start_upload"].irreversible
    assert cls.limits.media.max_duration_s == 180 and cls.limits.media.max_aspect == 1.0
    assert cls.limits.caption.unit == "bytes" and cls.limits.title is not None and cls.limits.title.required
    rules = {q.name: q for q in cls.quotas}
    assert rules["videos.insert"].limit == 100 and rules["videos.insert"].window == "daily_pacific"
    assert rules["channel_uploads"].scope == "account"


def test_publishes_once_with_the_right_bytes_and_metadata(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    outcome, data = drive(adapter, make_job(sample_video, token))
    posts = sb.published_for("youtube")
    assert len(posts) == 1
    post = posts[0]
    assert post["sha256"] == sample_video.sha256() and post["size"] == sample_video.size
    assert post["caption"] == "Fresh sourdough in 30 seconds\n\n#baking #bread"
    assert post["title"] == "Fresh sourdough in 30 seconds"
    assert post["tags"] == ["baking", "bread"]
    assert post["status"]["privacyStatus"] == "public"
    assert post["status"]["containsSyntheticMedia"] is True
    assert post["status"]["selfDeclaredMadeForKids"] is False
    assert outcome.published is not None
    assert outcome.published.platform_post_id == post["post_id"] == data["video_id"]
    assert outcome.published.url == f"https://www.youtube.com/shorts/{post['post_id']}"


def test_waits_for_processing_without_sleeping_in_a_step(youtube, sandbox, sample_video) -> None:
    sb, _, token = youtube
    sb.config["processing_seconds"] = 0.4
    adapter = make_adapter(sandbox, processing_poll_min_seconds=0.1)
    job = make_job(sample_video, token, privacy_status="unlisted")
    data: dict[str, Any] = {}
    for step in ("start_upload", "upload"):
        data.update(adapter.run_step(step, job, data).data)
    waiting = adapter.run_step("check_processing", job, data)
    assert waiting.next_step == "check_processing" and waiting.published is None
    assert 0.1 <= waiting.wait_seconds <= 0.4
    outcome, _ = drive(adapter, job, "check_processing", data)
    assert outcome.published is not None
    assert sb.published_for("youtube")[0]["status"]["privacyStatus"] == "unlisted"


def test_scheduled_publish_is_sent_private_with_publish_at(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    drive(adapter, make_job(sample_video, token, publish_at=when, contains_synthetic_media=False))
    status = sb.published_for("youtube")[0]["status"]
    assert status["privacyStatus"] == "private" and status["publishAt"] == when.isoformat()
    assert status["containsSyntheticMedia"] is False


def test_custom_thumbnail_is_set(youtube, sample_video, media_dir, file_server) -> None:
    sb, adapter, token = youtube
    path = media_dir / "cover.jpg"
    Image.new("RGB", (108, 192), (200, 120, 40)).save(path, "JPEG")
    cover = file_server.source(path, content_type="image/jpeg")
    outcome, data = drive(adapter, make_job(sample_video, token, cover=cover))
    assert outcome.published is not None and data["thumbnail_set"] is True
    video = sb.store("youtube")["videos"][data["video_id"]]
    assert video["thumbnail_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_refused_thumbnail_is_a_warning_not_a_failure(youtube, sample_video, media_dir, file_server) -> None:
    sb, adapter, token = youtube
    path = media_dir / "not-an-image.jpg"
    path.write_bytes(b"definitely not a jpeg")
    cover = file_server.source(path, content_type="image/jpeg")
    outcome, data = drive(adapter, make_job(sample_video, token, cover=cover))
    assert outcome.published is not None and len(sb.published_for("youtube")) == 1
    assert data["thumbnail_error_code"] == "invalidImage"
    assert data["thumbnail_warning"].startswith("Your Short is published, but YouTube did not take")


def test_fetch_metrics_turns_strings_into_numbers(youtube, sample_video, sandbox) -> None:
    sb, adapter, token = youtube
    _, data = drive(adapter, make_job(sample_video, token))
    httpx.post(f"{sandbox.url}/_sandbox/youtube/videos/{data['video_id']}/statistics",
               json={"viewCount": 1234, "likeCount": 56, "commentCount": 7})
    metrics = adapter.fetch_metrics(Credentials(access_token=token, account_id=CHANNEL), data["video_id"],
                                    now=step_clock())
    assert (metrics.views, metrics.likes, metrics.comments) == (1234, 56, 7)
    assert metrics.raw["viewCount"] == "1234"


# ------------------------------------------------------------------------- resume


def test_resumes_after_a_dropped_connection(youtube, sandbox, file_server, media_dir) -> None:
    sb, _, token = youtube
    video = random_file(file_server, media_dir, "three-mib.bin", 3 * MIB + 12345)
    adapter = make_adapter(sandbox, upload_chunk_bytes=MIB)
    add_fault(sb, "upload", "reset", params={"at_offset": 3 * MIB // 2})
    drive(adapter, make_job(video, token))
    posts = sb.published_for("youtube")
    assert len(posts) == 1 and posts[0]["sha256"] == video.sha256()
    assert not any(f.times for f in sb.faults), "the drop really happened"


def test_upload_dropped_40_times_after_progress_completes(youtube, sandbox, file_server, media_dir) -> None:
    """Stalls are counted, not faults: 40 drops, each after Google kept more bytes, cost nothing
    and the status query itself may fail and be retried like any read."""
    sb, _, token = youtube
    unit = 256 * 1024
    video = random_file(file_server, media_dir, "forty-drops.bin", 41 * unit + 777)
    adapter = make_adapter(sandbox, upload_retry_attempts=3)
    for k in range(40):
        add_fault(sb, "upload", "reset", params={"at_offset": (k + 1) * unit + 1000})
    # The status query (`bytes */N`) answers 503 once after the tenth drop.
    add_fault(sb, "upload_status", "server_error", skip=11)
    job = make_job(video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    outcome = adapter.run_step("upload", job, data)
    assert outcome.next_step == "check_processing"
    assert not any(f.times for f in sb.faults), "every drop happened"
    drive(adapter, job, "check_processing", data | outcome.data)
    posts = sb.published_for("youtube")
    assert len(posts) == 1 and posts[0]["sha256"] == video.sha256()


def test_upload_out_of_time_after_progress_hands_over_to_the_next_delivery(
    youtube, sandbox, file_server, media_dir
) -> None:
    sb, _, token = youtube
    video = random_file(file_server, media_dir, "two-mib-b.bin", 2 * MIB)
    adapter = make_adapter(sandbox, upload_retry_attempts=1, upload_step_seconds=0.001)
    add_fault(sb, "upload", "reset", params={"at_offset": MIB + 10})
    job = make_job(video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    paused = adapter.run_step("upload", job, data)
    assert paused.next_step == "upload" and paused.data["uploaded_bytes"] >= MIB
    drive(adapter, job, "upload", data, limit=20)
    assert sb.published_for("youtube")[0]["sha256"] == video.sha256()


@pytest.mark.parametrize("chunk_bytes", [0, 8 * MIB], ids=["one-request", "8MiB-chunks"])
def test_large_upload_resumes_midway_with_flat_memory(youtube, sandbox, file_server, media_dir, chunk_bytes) -> None:
    """200 MB, connection dropped halfway: identical bytes arrive, memory stays flat."""
    sb, _, token = youtube
    size = 200 * MIB
    video = random_file(file_server, media_dir, "two-hundred-mib.bin", size)
    adapter = make_adapter(sandbox, upload_chunk_bytes=chunk_bytes)
    add_fault(sb, "upload", "reset", params={"at_offset": size // 2 + 4321})
    job = make_job(video, token)
    rss = _RssPeak()
    tracemalloc.start()
    try:
        with rss:
            _, data = drive(adapter, job, limit=5)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    posts = sb.published_for("youtube")
    assert len(posts) == 1 and posts[0]["size"] == size
    assert posts[0]["sha256"] == video.sha256()
    assert not any(f.times for f in sb.faults), "the drop really happened"
    assert traced_peak < 64 * MIB, f"python allocations peaked at {traced_peak / MIB:.1f} MiB"
    assert rss.growth < 64 * MIB, f"RSS grew by {rss.growth / MIB:.1f} MiB"


class _RssPeak:
    """Samples this process's resident memory while the block runs."""

    def __enter__(self) -> _RssPeak:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def test_a_vanished_session_starts_over_safely(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    add_fault(sb, "upload", "session_gone", params={"status": 410})
    job = make_job(sample_video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    first_session = data["session_uri"]
    outcome = adapter.run_step("upload", job, data)
    assert outcome.next_step == "start_upload" and outcome.data["session_uri"] is None
    data.update(outcome.data)
    drive(adapter, job, "start_upload", data)
    posts = sb.published_for("youtube")
    assert len(posts) == 1 and posts[0]["sha256"] == sample_video.sha256()
    assert sb.store("youtube")["sessions"][first_session.rsplit("upload_id=", 1)[1]]["video_id"] is None


def test_server_errors_are_retried_inside_the_upload(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    add_fault(sb, "upload", "server_error", times=2, params={"status": 503})
    drive(adapter, make_job(sample_video, token))
    assert len(sb.published_for("youtube")) == 1


def test_retries_used_up_keep_the_session_for_the_next_delivery(youtube, sandbox, sample_video) -> None:
    sb, _, token = youtube
    adapter = make_adapter(sandbox, upload_retry_attempts=2)
    add_fault(sb, "upload", "server_error", times=2, params={"status": 500})
    job = make_job(sample_video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("upload", job, data)
    assert caught.value.code == "internalError" and "retry automatically" in caught.value.user_message
    assert sb.published_for("youtube") == []
    drive(adapter, job, "upload", data)   # the next task delivery, same session
    assert len(sb.published_for("youtube")) == 1
    assert len(sb.store("youtube")["sessions"]) == 1


# ---------------------------------------------------------------------- reconcile


def test_reconcile_finds_an_upload_whose_answer_was_lost(youtube, sandbox, sample_video) -> None:
    sb, _, token = youtube
    adapter = make_adapter(sandbox, upload_retry_attempts=1)
    add_fault(sb, "upload", "lost_response")
    # The step's own question after the drop fails too (its first one, before sending, passes).
    add_fault(sb, "upload_status", "server_error", skip=1)
    job = make_job(sample_video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    with pytest.raises(TransientError):
        adapter.run_step("upload", job, data)
    assert len(sb.published_for("youtube")) == 1
    found = adapter.reconcile("upload", job, data)
    assert found is not None and found.next_step == "check_processing"
    assert found.data["video_id"] == sb.published_for("youtube")[0]["post_id"]
    data.update(found.data)
    outcome, _ = drive(adapter, job, found.next_step, data)
    assert outcome.published is not None and len(sb.published_for("youtube")) == 1


def test_reconcile_says_redo_when_the_upload_did_not_finish(youtube, sandbox, file_server, media_dir) -> None:
    sb, _, token = youtube
    video = random_file(file_server, media_dir, "two-mib.bin", 2 * MIB)
    adapter = make_adapter(sandbox, upload_retry_attempts=1, upload_chunk_bytes=MIB // 2)
    # Dropped before a whole 256 KiB unit arrived, then the session cannot be asked: no progress.
    add_fault(sb, "upload", "reset", params={"at_offset": 1000})
    add_fault(sb, "upload_status", "server_error", skip=1)
    job = make_job(video, token)
    data = dict(adapter.run_step("start_upload", job, {}).data)
    with pytest.raises(TransientError):
        adapter.run_step("upload", job, data)
    assert adapter.reconcile("upload", job, data) is None
    assert adapter.reconcile("upload", job, {}) is None          # no session persisted: redo is safe
    assert adapter.reconcile("check_processing", job, data) is None
    drive(adapter, job, "upload", data)
    posts = sb.published_for("youtube")
    assert len(posts) == 1 and posts[0]["sha256"] == video.sha256()


# ------------------------------------------------------------------------- errors


def test_expired_token_asks_the_user_to_reconnect(youtube, sample_video) -> None:
    sb, adapter, _ = youtube
    expired = sb.mint_token("youtube", CHANNEL, ttl=-1).value
    with pytest.raises(AuthError) as caught:
        adapter.run_step("start_upload", make_job(sample_video, expired), {})
    assert caught.value.code == "authError" and caught.value.status == 401
    assert caught.value.user_message.startswith("Your YouTube connection expired. Please reconnect")


def test_project_quota_defers_to_pacific_midnight(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    sb.config["youtube.daily_uploads"] = 0
    job = make_job(sample_video, token)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start_upload", job, {})
    assert caught.value.code == "quotaExceeded"
    assert caught.value.retry_at == next_pacific_midnight(job.now)
    assert "midnight Pacific time" in caught.value.user_message


def test_channel_upload_limit_defers_to_the_next_day(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    sb.add_account("youtube", CHANNEL, title="Sunny Bakes", daily_upload_limit=1)
    drive(adapter, make_job(sample_video, token))
    job = make_job(sample_video, token)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start_upload", job, {})
    assert caught.value.code == "uploadLimitExceeded"
    assert caught.value.retry_at == next_pacific_midnight(job.now)
    assert caught.value.user_message.startswith("Your YouTube channel reached its daily upload limit")


def test_rate_limit_waits_for_retry_after(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    add_fault(sb, "insert", "rate_limited", params={"retry_after": 42})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start_upload", make_job(sample_video, token), {})
    assert caught.value.code == "rateLimitExceeded" and caught.value.retry_at is not None
    assert timedelta(seconds=41) <= caught.value.retry_at - before <= timedelta(seconds=45)


@pytest.mark.parametrize("kind", ["server_error", "reset"])
def test_failures_to_start_are_transient(youtube, sample_video, kind) -> None:
    sb, adapter, token = youtube
    add_fault(sb, "insert", kind)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("start_upload", make_job(sample_video, token), {})
    assert "retry automatically" in caught.value.user_message
    drive(adapter, make_job(sample_video, token))
    assert len(sb.published_for("youtube")) == 1


def test_account_without_channel_is_permanent_with_instructions(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    sb.add_account("youtube", CHANNEL, no_channel=True)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("start_upload", make_job(sample_video, token), {})
    assert caught.value.code == "youtubeSignupRequired"
    assert caught.value.user_message == ("This Google account has no YouTube channel yet: create one at "
                                         "youtube.com, then reconnect.")


def test_invalid_title_is_permanent_with_a_plain_message(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    job = make_job(sample_video, token)
    job = PublishJob(**{**job.__dict__, "title": "Best <bread> ever"})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("start_upload", job, {})
    assert caught.value.code == "invalidTitle" and caught.value.status == 400
    assert "no < or > signs" in caught.value.user_message
    assert sb.published_for("youtube") == []


@pytest.mark.parametrize(
    ("kind", "params", "code", "words"),
    [
        ("rejected_codec", {}, "failed:codec", "format (codec)"),
        ("processing_error", {"reason": "tooSmall"}, "failed:tooSmall", "too small"),
        ("rejected", {"reason": "duplicate"}, "rejected:duplicate", "already on your channel"),
    ],
)
def test_processing_failures_are_permanent(youtube, sample_video, kind, params, code, words) -> None:
    sb, adapter, token = youtube
    add_fault(sb, "processing", kind, params=params)
    with pytest.raises(PermanentError) as caught:
        drive(adapter, make_job(sample_video, token))
    assert caught.value.code == code and words in caught.value.user_message


def test_bad_option_is_refused_before_calling_youtube(youtube, sample_video) -> None:
    sb, adapter, token = youtube
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("start_upload", make_job(sample_video, token, privacy_status="friends"), {})
    assert "public, unlisted or private" in caught.value.user_message
    assert sb.store("youtube").get("sessions", {}) == {}
