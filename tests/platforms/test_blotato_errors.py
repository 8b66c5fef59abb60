"""Blotato's error-classification table, unit-tested through the adapter with pytest-httpx."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.blotato import BlotatoAdapter, BlotatoSettings
from shared.platforms.blotato.errors import ERROR_TABLE, FAILED_POST_DEFAULT, FAILED_POST_REASONS
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from tests.support.media import FileSource
from tests.support.steps import publish_job

API = "https://blotato.test"
POSTS = f"{API}/v2/posts"


@pytest.fixture
def adapter() -> BlotatoAdapter:
    return BlotatoAdapter(BlotatoSettings(api_base=API, poll_seconds=0), http=httpx.Client())


@pytest.fixture
def job(tmp_path) -> PublishJob:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"\0" * 10)
    return publish_job(target_id="t", credentials=Credentials("key", "acc"),
                      video=FileSource(path=path, url="https://storage.test/v.mp4"), caption="hi")


DATA = {"media_url": "https://storage.test/v.mp4", "staged_at": "2026-11-24T10:00:00+00:00"}
CASES = [
    (401, {"statusCode": 401, "message": "Invalid API key"}, "401", AuthError),
    (403, {"statusCode": 403, "message": "Forbidden"}, "403", AuthError),
    (404, {"statusCode": 404, "message": "Not found"}, "404", PermanentError),
    (422, {"statusCode": 422, "message": "body/post/target/privacyLevel invalid"}, "422", PermanentError),
    (429, {"statusCode": 429, "message": "Rate limit exceeded, retry in 17 seconds"}, "429", QuotaError),
    (500, {"code": 9999, "message": "Something went wrong"}, "9999", TransientError),
    (503, {"message": "unavailable"}, "5xx", TransientError),
    (409, {"message": "conflict"}, "4xx", PermanentError),
]


def test_table_is_fully_exercised() -> None:
    assert {key for _, _, key, _ in CASES} | {"network"} == set(ERROR_TABLE)


@pytest.mark.parametrize(("status", "body", "key", "cls"), CASES)
def test_status_codes_map_to_their_class(status, body, key, cls, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=POSTS, method="POST", status_code=status, json=body)
    before = datetime.now(UTC)
    with pytest.raises(cls) as caught:
        adapter.run_step("create_post", job, DATA)
    error = caught.value
    assert error.user_message == ERROR_TABLE[key][1] and error.status == status and error.detail == body
    if cls is QuotaError:
        assert error.retry_at is not None and 16 <= (error.retry_at - before).total_seconds() <= 20


def test_429_without_a_number_waits_a_minute(adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=POSTS, method="POST", status_code=429, json={"message": "Too many"})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("create_post", job, DATA)
    assert caught.value.retry_at is not None and (caught.value.retry_at - before).total_seconds() >= 59


def test_network_failure_is_transient(adapter, job, httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"), url=POSTS, method="POST")
    with pytest.raises(TransientError) as caught:
        adapter.run_step("create_post", job, DATA)
    assert caught.value.code == "network" and caught.value.user_message == ERROR_TABLE["network"][1]


SAMPLES = {
    "conversion_too_long": "Media conversion failed: video conversion is limited to 120 seconds",
    "video_format": "Unsupported video codec hevc_10bit",
    "video_duration": "Video duration exceeds the maximum allowed",
    "video_size": "Invalid resolution 200x200",
    "media_unreachable": "Failed to download media from URL",
    "posting_limit": "spam_risk_too_many_posts",
    "account_disconnected": "access token expired, please reconnect",
    "privacy": "privacy_level_option_mismatch for private account",
}


def test_every_failed_reason_has_a_sample() -> None:
    assert set(SAMPLES) == {code for _, code, _ in FAILED_POST_REASONS}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_failed_posts_are_permanent_with_a_plain_sentence(code, adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=f"{POSTS}/s1", json={"postSubmissionId": "s1", "status": "failed",
                                                     "publicUrl": None, "errorMessage": SAMPLES[code]})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_status", job, {"post_submission_id": "s1"})
    sentence = next(s for _, c, s in FAILED_POST_REASONS if c == code)
    assert caught.value.code == code and caught.value.user_message == sentence
    assert caught.value.detail["errorMessage"] == SAMPLES[code]


def test_unrecognised_failure_gets_the_default_sentence(adapter, job, httpx_mock) -> None:
    httpx_mock.add_response(url=f"{POSTS}/s1", json={"postSubmissionId": "s1", "status": "failed",
                                                     "errorMessage": "E_WEIRD_0x42"})
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_status", job, {"post_submission_id": "s1"})
    assert caught.value.user_message == FAILED_POST_DEFAULT and "E_WEIRD" not in caught.value.user_message


def test_platform_key_is_used_when_the_user_brings_none(job, httpx_mock) -> None:
    adapter = BlotatoAdapter(BlotatoSettings(api_base=API, api_key="platform-key"), http=httpx.Client())
    httpx_mock.add_response(url=POSTS, method="POST", status_code=201, json={"postSubmissionId": "s9"},
                            match_headers={"blotato-api-key": "platform-key"})
    keyless = publish_job(target_id="t", credentials=Credentials("", "acc"), video=job.video, caption="hi")
    assert adapter.run_step("create_post", keyless, DATA).data["post_submission_id"] == "s9"
    with pytest.raises(AuthError):
        BlotatoAdapter(BlotatoSettings(api_base=API), http=httpx.Client()).run_step("create_post", keyless, DATA)
