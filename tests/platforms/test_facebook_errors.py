"""Every code in Facebook's error table (Graph and rupload), through the adapter, with pytest-httpx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.facebook import FacebookAdapter, FacebookSettings
from shared.platforms.facebook import errors as fb_errors
from shared.platforms.meta.graph import Rule
from tests.support.steps import publish_job

GRAPH = "https://graph.test"
RUPLOAD = "https://rupload.test"
STATUS_URL = f"{GRAPH}/v26.0/555?fields=status"
UPLOAD_URL = f"{RUPLOAD}/video-upload/v26.0/555"
START_URL = f"{GRAPH}/v26.0/104/video_reels"


class _Video:
    url = "https://media.test/v.mp4"
    size = 10
    content_type = "video/mp4"
    filename = "v.mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = 1):
        yield b"0123456789"[start:]


@pytest.fixture(scope="module")
def adapter():  # one client: building its TLS context is the slow part
    adapter = FacebookAdapter(FacebookSettings(graph_base=GRAPH, rupload_base=RUPLOAD, poll_seconds=0,
                                               upload_resumes=1))
    yield adapter
    adapter.http.close()


@pytest.fixture(autouse=True)
def fresh_usage_gate(adapter):
    """The adapter is shared by the module: a rate-limit answer in one test must not hold the next."""
    adapter.usage_gate.held_until.clear()


def a_job() -> PublishJob:
    """The job a step gets, stamped with the clock's reading now (a refusal's retry time counts from it)."""
    return publish_job(target_id="t1", credentials=Credentials(access_token="pagetok", account_id="104"),
                       video=_Video(), caption="hello #reels")

DATA = {"video_id": "555"}


def envelope(code: int, subcode: int | None = None) -> dict:
    error = {"message": "boom", "type": "OAuthException", "code": code, "fbtrace_id": "XyZ"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def status(received: int = 0, publish_status: str = "draft", processing: str = "not_started") -> dict:
    return {"id": "555", "status": {
        "video_status": "uploading", "uploading_phase": {"status": "in_progress", "bytes_transfered": received},
        "processing_phase": {"status": processing},
        "publishing_phase": {"status": "not_started", "publish_status": publish_status}}}


CASES: list[tuple[int, int | None, Rule]] = (
    [(190, subcode, rule) for subcode, rule in fb_errors.RULES_BY_SUBCODE.items()]
    + [(code, None, rule) for code, rule in fb_errors.RULES_BY_CODE.items()]
    + [(edge, None, rule) for (low, high), rule in fb_errors.RULES_BY_RANGE.items() for edge in (low, high)]
)


@pytest.mark.parametrize(("code", "subcode", "rule"), CASES, ids=[f"{c}/{s}" for c, s, _ in CASES])
def test_every_code_is_classified_with_a_plain_message(adapter, httpx_mock, code, subcode, rule) -> None:
    httpx_mock.add_response(url=START_URL, method="POST", status_code=400, json=envelope(code, subcode))
    with pytest.raises(rule.error) as caught:
        adapter.run_step("start", a_job(), {})
    err = caught.value
    assert type(err) is rule.error and err.user_message == rule.message
    assert err.code == (f"{code}/{subcode}" if subcode else str(code))
    assert err.detail["fbtrace_id"] == "XyZ" and err.platform == "facebook"
    if rule.error is QuotaError:
        assert err.retry_at is not None and err.retry_at > datetime.now(UTC)


@pytest.mark.parametrize(("code", "expected"), [
    (190, AuthError), (1, TransientError), (2, TransientError), (4, QuotaError), (17, QuotaError),
    (32, QuotaError), (613, QuotaError), (80001, QuotaError), (10, PermanentError), (200, PermanentError),
    (368, PermanentError),
])
def test_the_issue_s_classification(adapter, httpx_mock, code, expected) -> None:
    httpx_mock.add_response(url=START_URL, method="POST", status_code=400, json=envelope(code))
    with pytest.raises(expected):
        adapter.run_step("start", a_job(), {})


def test_page_limit_waits_for_the_regain_access_header(adapter, httpx_mock) -> None:
    usage = {"104": [{"type": "pages", "call_count": 100, "total_cputime": 1, "total_time": 1,
                      "estimated_time_to_regain_access": 120}]}
    httpx_mock.add_response(url=START_URL, method="POST", status_code=400, json=envelope(32),
                            headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("start", a_job(), {})
    assert before + timedelta(minutes=119) < caught.value.retry_at < before + timedelta(minutes=121)


@pytest.mark.parametrize(("kind", "retriable", "expected"), [
    ("ProcessingFailedError", False, PermanentError),
    ("OffsetInvalidError", True, TransientError),
    ("PartialRequestError", True, TransientError),
    ("SomethingNewError", True, TransientError),
    ("SomethingNewError", False, PermanentError),
])
def test_rupload_errors(adapter, httpx_mock, kind, retriable, expected) -> None:
    body = {"debug_info": {"retriable": retriable, "type": kind, "message": "nope"}}
    resumes = 2 if expected is TransientError else 1  # a transient upload error is resumed once in the step
    for _ in range(resumes):
        httpx_mock.add_response(url=STATUS_URL, json=status(received=0))
        httpx_mock.add_response(url=UPLOAD_URL, method="POST", status_code=400, json=body)
    if expected is TransientError:
        # After the last try Facebook is asked once more: had it moved forward, the step would go on.
        httpx_mock.add_response(url=STATUS_URL, json=status(received=0))
    with pytest.raises(expected) as caught:
        adapter.run_step("upload", a_job(), DATA)
    assert caught.value.code == kind and caught.value.detail["message"] == "nope"


def test_upload_sends_only_the_missing_bytes_with_oauth_scheme(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=STATUS_URL, json=status(received=4))
    httpx_mock.add_response(url=UPLOAD_URL, method="POST", json={"success": True})
    assert adapter.run_step("upload", a_job(), DATA).next_step == "finish"
    upload = httpx_mock.get_requests()[-1]
    assert upload.headers["Authorization"] == "OAuth pagetok"
    assert upload.headers["offset"] == "4" and upload.headers["file_size"] == "10"
    assert upload.read() == b"456789"


def test_network_failure_during_upload_is_transient(adapter, httpx_mock) -> None:
    for _ in range(2):
        httpx_mock.add_response(url=STATUS_URL, json=status(received=0))
        httpx_mock.add_exception(httpx.RemoteProtocolError("peer closed"), url=UPLOAD_URL)
    httpx_mock.add_response(url=STATUS_URL, json=status(received=0))   # no progress: give up
    with pytest.raises(TransientError) as caught:
        adapter.run_step("upload", a_job(), DATA)
    assert caught.value.code == "network"


def test_processing_phase_error_is_permanent(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=STATUS_URL, json=status(received=10, processing="error"))
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_status", a_job(), DATA)
    assert "3 to 90 seconds" in caught.value.user_message


@pytest.mark.parametrize(("publish_status", "took_effect"), [
    ("published", True), ("scheduled", True), ("draft", False),
])
def test_reconcile_finish_reads_publish_status(adapter, httpx_mock, publish_status, took_effect) -> None:
    httpx_mock.add_response(url=STATUS_URL, json=status(received=10, publish_status=publish_status))
    outcome = adapter.reconcile("finish", a_job(), DATA)
    assert (outcome is not None) is took_effect
    if outcome is not None:
        assert outcome.next_step == "check_status"
