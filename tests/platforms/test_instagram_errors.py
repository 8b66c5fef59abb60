"""Every code in Instagram's error table, through the adapter, with pytest-httpx answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import AuthError, PermanentError, QuotaError, TransientError
from shared.platforms.instagram import InstagramAdapter, InstagramSettings
from shared.platforms.instagram import errors as ig_errors
from shared.platforms.meta.graph import Rule
from tests.support.steps import publish_job

BASE = "https://graph.test"
CONTAINER_URL = f"{BASE}/v26.0/1790001?fields=status_code%2Cstatus"


class _Video:
    url = "https://media.test/v.mp4"
    size = 10
    content_type = "video/mp4"
    filename = "v.mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = 1):
        yield b"0123456789"[start:]


@pytest.fixture(scope="module")
def adapter():  # one client: building its TLS context is the slow part
    adapter = InstagramAdapter(InstagramSettings(graph_base=BASE, poll_seconds=0))
    yield adapter
    adapter.http.close()


@pytest.fixture(autouse=True)
def fresh_usage_gate(adapter):
    """The adapter is shared by the module: a rate-limit answer in one test must not hold the next."""
    adapter.usage_gate.held_until.clear()


def a_job() -> PublishJob:
    """The job a step gets, stamped with the clock's reading now (a refusal's retry time counts from it)."""
    return publish_job(target_id="t1", credentials=Credentials(access_token="tok", account_id="17841"), video=_Video(),
                       caption="hello")

DATA = {"container_id": "1790001", "ig_user_id": "17841"}


def envelope(code: int, subcode: int | None = None) -> dict:
    error = {"message": "boom", "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


CASES: list[tuple[int, int | None, Rule]] = (
    [(100, subcode, rule) for subcode, rule in ig_errors.RULES_BY_SUBCODE.items()]
    + [(code, None, rule) for code, rule in ig_errors.RULES_BY_CODE.items()]
    + [(edge, None, rule) for (low, high), rule in ig_errors.RULES_BY_RANGE.items() for edge in (low, high)]
)


@pytest.mark.parametrize(("code", "subcode", "rule"), CASES, ids=[f"{c}/{s}" for c, s, _ in CASES])
def test_every_code_is_classified_with_a_plain_message(adapter, httpx_mock, code, subcode, rule) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, status_code=400, json=envelope(code, subcode))
    with pytest.raises(rule.error) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    err = caught.value
    assert type(err) is rule.error
    assert err.user_message == rule.message and "{" not in err.user_message
    assert err.code == (f"{code}/{subcode}" if subcode else str(code))
    assert err.detail["message"] == "boom" and err.detail["fbtrace_id"] == "AbC"
    assert err.platform == "instagram" and err.status == 400
    if rule.error is QuotaError:
        assert err.retry_at is not None and err.retry_at > datetime.now(UTC)


@pytest.mark.parametrize(("code", "subcode", "expected"), [
    (190, 463, AuthError), (190, 460, AuthError), (190, None, AuthError),
    (4, 2207051, PermanentError), (9, 2207042, QuotaError), (352, 2207026, PermanentError),
    (-1, 2207001, TransientError), (-2, 2207003, TransientError), (-2, 2207020, TransientError),
    (10, None, PermanentError), (250, None, PermanentError), (80004, None, QuotaError),
    (368, None, PermanentError), (25, 2207050, PermanentError),
])
def test_the_issue_s_classification(adapter, httpx_mock, code, subcode, expected) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, status_code=400, json=envelope(code, subcode))
    with pytest.raises(expected):
        adapter.run_step("check_container", a_job(), DATA)


def test_unsupported_format_is_marked_for_conversion(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, status_code=400, json=envelope(352, 2207026))
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    assert caught.value.fixable_by_conversion is True  # type: ignore[attr-defined]


def test_rate_limit_waits_for_the_business_use_case_header(adapter, httpx_mock) -> None:
    usage = {"17841": [{"type": "instagram", "call_count": 100, "total_cputime": 20, "total_time": 30,
                        "estimated_time_to_regain_access": 17}]}
    httpx_mock.add_response(url=CONTAINER_URL, status_code=400, json=envelope(80002),
                            headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    before = datetime.now(UTC)
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    assert before + timedelta(minutes=16) < caught.value.retry_at < before + timedelta(minutes=18)


def test_unknown_code_is_permanent_but_a_5xx_is_transient(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, status_code=400, json=envelope(987654))
    with pytest.raises(PermanentError):
        adapter.run_step("check_container", a_job(), DATA)
    httpx_mock.add_response(url=CONTAINER_URL, status_code=500, json=envelope(987654))
    with pytest.raises(TransientError):
        adapter.run_step("check_container", a_job(), DATA)
    httpx_mock.add_response(url=CONTAINER_URL, status_code=502, text="<html>Bad gateway</html>")
    with pytest.raises(TransientError) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    assert caught.value.code == "502"


def test_error_inside_a_200_is_still_an_error(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, status_code=200, json=envelope(190, 467))
    with pytest.raises(AuthError):
        adapter.run_step("check_container", a_job(), DATA)


def test_network_failures_are_transient(adapter, httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=CONTAINER_URL)
    with pytest.raises(TransientError) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    assert caught.value.code == "network"


@pytest.mark.parametrize(("status", "expected", "code"), [
    ("Error: 2207026", PermanentError, "2207026"),
    ("Error: 2207052", PermanentError, "2207052"),
    ("Error: 2207057", PermanentError, "2207057"),
])
def test_container_error_status_is_classified_by_its_subcode(adapter, httpx_mock, status, expected, code) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, json={"id": "1790001", "status_code": "ERROR", "status": status})
    with pytest.raises(expected) as caught:
        adapter.run_step("check_container", a_job(), DATA)
    assert caught.value.code == code


def test_transient_container_error_recreates_the_container(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, json={"status_code": "ERROR", "status": "Error: 2207053"})
    outcome = adapter.run_step("check_container", a_job(), DATA | {"container_attempts": 1})
    assert outcome.next_step == "create_container"


def test_token_never_appears_in_the_url(adapter, httpx_mock) -> None:
    httpx_mock.add_response(url=CONTAINER_URL, json={"status_code": "IN_PROGRESS"})
    adapter.run_step("check_container", a_job(), DATA)
    request = httpx_mock.get_requests()[0]
    assert "tok" not in str(request.url) and request.headers["Authorization"] == "Bearer tok"
