"""TikTok's error-classification table, unit-tested through the adapter with pytest-httpx."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.tiktok import TikTokAdapter, TikTokSettings
from shared.platforms.tiktok.errors import ERROR_TABLE, FAIL_REASONS, UNTIL_TOMORROW
from tests.support.media import FileSource
from tests.support.steps import publish_job

API = "https://tiktok.test"
CREATOR_INFO = f"{API}/v2/post/publish/creator_info/query/"
STATUS = f"{API}/v2/post/publish/status/fetch/"
INIT_STATUS = {  # the HTTP status TikTok documents for each init error code
    "access_token_invalid": 401, "scope_not_authorized": 401, "invalid_params": 400,
    "spam_risk_too_many_posts": 403, "spam_risk_too_many_pending_share": 403,
    "spam_risk_user_banned_from_posting": 403, "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403, "url_ownership_unverified": 403,
    "privacy_level_option_mismatch": 403, "rate_limit_exceeded": 429, "internal_error": 500,
}
BODY_CODES = sorted(INIT_STATUS)


@pytest.fixture
def adapter() -> TikTokAdapter:
    return TikTokAdapter(TikTokSettings(api_base=API, poll_seconds=0), http=httpx.Client())


@pytest.fixture
def job(tmp_path) -> PublishJob:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\0" * 1000)
    video = FileSource(path=path, url="https://storage.test/v.mp4")
    return publish_job(target_id="t", credentials=Credentials("tok", "open"), video=video,
                      options={"privacy_level": "SELF_ONLY"})


def envelope(code: str, data: dict | None = None) -> dict:
    return {"data": data or {}, "error": {"code": code, "message": f"raw {code}", "log_id": "LOG1"}}


def test_every_body_code_is_covered() -> None:
    assert set(BODY_CODES) <= set(ERROR_TABLE)


@pytest.mark.parametrize("code", BODY_CODES)
def test_body_codes_map_to_their_class(code, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=CREATOR_INFO, status_code=INIT_STATUS[code], json=envelope(code))
    with pytest.raises(ERROR_TABLE[code][0]) as caught:
        adapter.run_step("creator_info", job, {})
    error = caught.value
    assert error.code == code and error.status == INIT_STATUS[code]
    assert error.detail["error"]["log_id"] == "LOG1"
    assert error.user_message == ERROR_TABLE[code][1] and "{" not in error.user_message
    if isinstance(error, QuotaError):
        assert error.retry_at is not None and error.retry_at > datetime.now(UTC)
        if code in UNTIL_TOMORROW:
            assert error.retry_at.date() > datetime.now(UTC).date()


@pytest.mark.parametrize(("code", "retry_at"), [
    ("rate_limit_exceeded", datetime(2026, 12, 1, 9, 1, tzinfo=UTC)),          # a minute after the step's clock
    ("spam_risk_too_many_posts", datetime(2026, 12, 2, 0, 5, tzinfo=UTC)),     # the next UTC day of that clock
])
def test_a_quota_refusal_is_retried_by_the_steps_clock_not_the_wall_clock(code, retry_at, adapter, job,
                                                                         httpx_mock) -> None:
    httpx_mock.add_response(url=CREATOR_INFO, status_code=INIT_STATUS[code], json=envelope(code))
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("creator_info", replace(job, now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)), {})
    assert caught.value.retry_at == retry_at


@pytest.mark.parametrize("code", ["spam_risk_too_many_posts", "spam_risk_user_banned_from_posting",
                                  "reached_active_user_cap"])
def test_creator_info_errors_with_http_200(code, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=CREATOR_INFO, status_code=200, json=envelope(code))
    with pytest.raises(ERROR_TABLE[code][0]):
        adapter.run_step("creator_info", job, {})


@pytest.mark.parametrize(("status", "cls"), [(401, AuthError), (429, QuotaError), (503, TransientError),
                                             (418, PermanentError)])
def test_unknown_codes_fall_back_on_http_status(status, cls, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=CREATOR_INFO, status_code=status, json=envelope("something_new"))
    with pytest.raises(cls):
        adapter.run_step("creator_info", job, {})


def test_non_json_5xx_and_network_errors_are_transient(adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=CREATOR_INFO, status_code=502, text="<html>bad gateway</html>")
    with pytest.raises(TransientError):
        adapter.run_step("creator_info", job, {})
    httpx_mock.add_exception(httpx.ConnectTimeout("timed out"), url=CREATOR_INFO)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("creator_info", job, {})
    assert caught.value.code == "network"


@pytest.mark.parametrize("reason", sorted(FAIL_REASONS))
def test_every_fail_reason(reason, adapter, job, httpx_mock) -> None:
    cls, message = FAIL_REASONS[reason]
    httpx_mock.add_response(url=STATUS, json=envelope("ok", {"status": "FAILED", "fail_reason": reason}))
    data = {"publish_id": "p1", "restarts": 0}
    if issubclass(cls, PermanentError):
        with pytest.raises(cls) as caught:
            adapter.run_step("check_status", job, data)
        assert caught.value.code == reason and caught.value.user_message == message
    else:
        # The failed publish can never go live: start again, and let creator_info report the state.
        outcome = adapter.run_step("check_status", job, data)
        assert outcome.next_step == "creator_info" and outcome.data["publish_id"] is None
        httpx_mock.add_response(url=STATUS, json=envelope("ok", {"status": "FAILED", "fail_reason": reason}))
        with pytest.raises(cls) as caught:
            adapter.run_step("check_status", job, {**data, "restarts": 3})
        assert caught.value.code == reason and caught.value.user_message == message


@pytest.mark.parametrize(("status", "cls"), [(400, PermanentError), (429, QuotaError), (500, TransientError)])
def test_upload_statuses(status, cls, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url="https://upload.test/video/?id=1", method="PUT", status_code=status)
    data = {"publish_id": "p1", "upload_url": "https://upload.test/video/?id=1", "video_size": 1000,
            "chunk_size": 1000, "total_chunk_count": 1, "next_chunk": 0}
    if status != 429:
        # Before failing, the adapter asks whether the upload completed anyway: it did not.
        httpx_mock.add_response(url=STATUS, json=envelope("ok", {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0}))
    with pytest.raises(cls):
        adapter.run_step("upload", job, data)
