"""The YouTube error table, answer by answer, with canned HTTP answers (pytest-httpx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.youtube import YouTubeAdapter, YouTubeSettings
from shared.platforms.youtube import errors as yt_errors
from shared.platforms.youtube.errors import RULES, next_pacific_midnight
from tests.support.steps import publish_job

API = "https://yt.example.test"
START_URL = f"{API}/upload/youtube/v3/videos?uploadType=resumable&part=snippet%2Cstatus&notifySubscribers=true"
LIST_URL = f"{API}/youtube/v3/videos?part=status%2CprocessingDetails&id=vid12345678"

# The HTTP status Google uses for each reason.
STATUS = {
    "invalidTitle": 400, "invalidDescription": 400, "invalidTags": 400, "invalidCategoryId": 400,
    "invalidPublishAt": 400, "invalidFilename": 400, "mediaBodyRequired": 400, "invalidVideoMetadata": 400,
    "uploadLimitExceeded": 400, "invalidImage": 400, "mediaBodyTooLarge": 413, "badRequest": 400,
    "authError": 401, "unauthorized": 401, "youtubeSignupRequired": 401,
    "quotaExceeded": 403, "forbidden": 403, "forbiddenPrivacySetting": 403, "forbiddenLicenseSetting": 403,
    "insufficientPermissions": 403, "authenticatedUserAccountSuspended": 403, "accountDelegationForbidden": 403,
    "rateLimitExceeded": 403, "userRateLimitExceeded": 429, "uploadRateLimitExceeded": 429,
    "videoNotFound": 404, "notFound": 404, "internalError": 500, "backendError": 503,
}


class _Video:
    url = "https://storage.example.test/v.mp4"
    size = 1000
    content_type = "video/mp4"
    filename = "v.mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = 1 << 20):
        yield b"\0" * (self.size - start)


@pytest.fixture
def adapter() -> YouTubeAdapter:
    return YouTubeAdapter(YouTubeSettings(api_base=API), http=httpx.Client())


def a_job() -> PublishJob:
    """The job a step gets, stamped with the clock's reading now (a refusal's retry time counts from it)."""
    return publish_job(target_id="t1", credentials=Credentials(access_token="tok", account_id="UC1"),
                       video=_Video(), caption="Hello")



def google_error(status: int, reason: str, message: str = "platform says no") -> dict[str, Any]:
    return {"error": {"code": status, "message": message,
                      "errors": [{"domain": "youtube.video", "reason": reason, "message": message}]}}


def test_every_reason_has_a_status_here() -> None:
    assert set(STATUS) == set(RULES)


@pytest.mark.parametrize("reason", sorted(RULES))
def test_each_reason_maps_to_its_class_and_message(adapter, httpx_mock, reason) -> None:
    status = STATUS[reason]
    httpx_mock.add_response(method="POST", url=START_URL, status_code=status,
                            json=google_error(status, reason), headers={"Retry-After": "17"})
    rule = RULES[reason]
    before = datetime.now(UTC)
    job = a_job()
    with pytest.raises(rule.kind) as caught:
        adapter.run_step("start_upload", job, {})
    error = caught.value
    assert type(error) is rule.kind
    assert (error.code, error.status, error.platform) == (reason, status, "youtube")
    assert error.user_message == rule.user_message and error.detail == "platform says no"
    assert "{" not in error.user_message and reason not in error.user_message
    if rule.kind is QuotaError:
        assert error.retry_at is not None
        if reason in ("quotaExceeded", "uploadLimitExceeded"):
            assert error.retry_at == next_pacific_midnight(job.now)
        else:  # slow down for as long as Google said
            assert timedelta(seconds=16) <= error.retry_at - before <= timedelta(seconds=19)
    else:
        assert error.retry_at is None


def test_the_documented_classes() -> None:
    assert RULES["quotaExceeded"].kind is QuotaError
    assert RULES["uploadLimitExceeded"].kind is QuotaError
    assert RULES["rateLimitExceeded"].kind is QuotaError and RULES["userRateLimitExceeded"].kind is QuotaError
    assert RULES["authError"].kind is AuthError
    assert RULES["youtubeSignupRequired"].kind is PermanentError
    assert RULES["internalError"].kind is TransientError and RULES["backendError"].kind is TransientError
    for reason in ("invalidTitle", "invalidDescription", "invalidTags", "invalidCategoryId", "invalidPublishAt"):
        assert RULES[reason].kind is PermanentError


def test_rate_limit_without_retry_after_waits_a_minute(adapter, httpx_mock) -> None:
    httpx_mock.add_response(method="POST", url=START_URL, status_code=429,
                            json=google_error(429, "rateLimitExceeded"))
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start_upload", a_job(), {})
    assert caught.value.retry_at is not None
    assert timedelta(seconds=59) <= caught.value.retry_at - before <= timedelta(seconds=62)


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (502, "<html>Bad Gateway</html>", TransientError, "502"),
        (504, {"error": {"code": 504, "message": "Deadline"}}, TransientError, "504"),
        (408, "", TransientError, "408"),
        (401, {"error": {"code": 401, "message": "Login Required", "errors": [{"reason": "required"}]}},
         AuthError, "required"),
        (403, {"error": {"code": 403, "message": "?", "errors": [{"reason": "somethingNew"}]}},
         PermanentError, "somethingNew"),
        (400, "not json", PermanentError, "400"),
        (429, {}, QuotaError, "429"),
    ],
)
def test_unknown_answers_fall_back_by_status(adapter, httpx_mock, status, body, kind, code) -> None:
    if isinstance(body, dict):
        httpx_mock.add_response(method="POST", url=START_URL, status_code=status, json=body)
    else:
        httpx_mock.add_response(method="POST", url=START_URL, status_code=status, text=body)
    with pytest.raises(kind) as caught:
        adapter.run_step("start_upload", a_job(), {})
    assert caught.value.code == code and caught.value.status == status


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"),
                                 httpx.RemoteProtocolError("reset")])
def test_network_failures_are_transient(adapter, httpx_mock, exc) -> None:
    httpx_mock.add_exception(exc, method="POST", url=START_URL)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("start_upload", a_job(), {})
    assert caught.value.code == type(exc).__name__
    assert caught.value.user_message.startswith("We could not reach YouTube")


def _status_answer(httpx_mock, status: dict[str, Any], processing: dict[str, Any] | None = None) -> None:
    item = {"id": "vid12345678", "status": status, "processingDetails": processing or {}}
    httpx_mock.add_response(method="GET", url=LIST_URL, json={"items": [item]})


@pytest.mark.parametrize("reason", sorted(yt_errors.FAILURE_REASONS))
def test_each_failure_reason_has_a_plain_message(adapter, httpx_mock, reason) -> None:
    _status_answer(httpx_mock, {"uploadStatus": "failed", "failureReason": reason},
                   {"processingStatus": "failed"})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_processing", a_job(), {"video_id": "vid12345678"})
    assert caught.value.code == f"failed:{reason}"
    assert caught.value.user_message == yt_errors.FAILURE_REASONS[reason]


@pytest.mark.parametrize("reason", sorted(yt_errors.REJECTION_REASONS))
def test_each_rejection_reason_has_a_plain_message(adapter, httpx_mock, reason) -> None:
    _status_answer(httpx_mock, {"uploadStatus": "rejected", "rejectionReason": reason})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_processing", a_job(), {"video_id": "vid12345678"})
    assert caught.value.code == f"rejected:{reason}"
    assert caught.value.user_message == yt_errors.REJECTION_REASONS[reason]


@pytest.mark.parametrize(
    ("status", "processing", "message"),
    [
        ({"uploadStatus": "deleted"}, {}, yt_errors.DELETED),
        ({"uploadStatus": "uploaded"}, {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"},
         yt_errors.PROCESSING_FAILURE),
        ({"uploadStatus": "failed", "failureReason": "somethingNew"}, {}, yt_errors.PROCESSING_FAILURE),
    ],
)
def test_other_dead_ends_after_upload(adapter, httpx_mock, status, processing, message) -> None:
    _status_answer(httpx_mock, status, processing)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_processing", a_job(), {"video_id": "vid12345678"})
    assert caught.value.user_message == message


def test_a_video_gone_from_the_list_is_reported_as_deleted(adapter, httpx_mock) -> None:
    httpx_mock.add_response(method="GET", url=LIST_URL, json={"items": []})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_processing", a_job(), {"video_id": "vid12345678"})
    assert caught.value.code == "videoNotFound"


def test_processing_that_never_ends_stops_with_a_message(adapter, httpx_mock) -> None:
    _status_answer(httpx_mock, {"uploadStatus": "uploaded"}, {"processingStatus": "processing"})
    long_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_processing", a_job(), {"video_id": "vid12345678", "processing_since": long_ago})
    assert caught.value.code == "processingTimeout" and "YouTube Studio" in caught.value.user_message


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),   # 23:59 PST
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),    # 00:00 PST
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),       # PDT
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),     # DST ends
    ],
)
def test_next_pacific_midnight(now, reset) -> None:
    assert next_pacific_midnight(now) == reset
