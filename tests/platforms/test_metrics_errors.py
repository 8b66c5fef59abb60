"""The metrics calls' error answers, through each adapter's error table (pytest-httpx)."""

from __future__ import annotations

import pytest

from shared.platforms.base import Credentials
from shared.platforms.errors import AuthError, PermanentError, QuotaError
from shared.platforms.facebook import FacebookAdapter, FacebookSettings
from shared.platforms.instagram import InstagramAdapter, InstagramSettings
from shared.platforms.tiktok import TikTokAdapter, TikTokSettings
from tests.support.steps import step_clock

CREDS = Credentials(access_token="tok", account_id="1")


def _graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.fixture
def instagram():
    adapter = InstagramAdapter(InstagramSettings(graph_base="https://graph.test"))
    yield adapter
    adapter.http.close()


def test_instagram_error_10_is_no_numbers_only_for_not_enough_viewers(instagram, httpx_mock) -> None:
    httpx_mock.add_response(status_code=400, json=_graph_error(10, "(#10) Not enough viewers for the media to "
                                                                   "show insights"))
    assert instagram.fetch_metrics(CREDS, "1790", now=step_clock()).views is None
    httpx_mock.add_response(status_code=403, json=_graph_error(10, "(#10) Application does not have permission "
                                                                   "for this action"))
    with pytest.raises(PermanentError):
        instagram.fetch_metrics(CREDS, "1790", now=step_clock())
    httpx_mock.add_response(status_code=400, json=_graph_error(190, "Session has expired", 463))
    with pytest.raises(AuthError):
        instagram.fetch_metrics(CREDS, "1790", now=step_clock())
    httpx_mock.add_response(status_code=400, json=_graph_error(4, "Application request limit reached"))
    with pytest.raises(QuotaError):
        instagram.fetch_metrics(CREDS, "1790", now=step_clock())


def test_facebook_insights_errors(httpx_mock) -> None:
    adapter = FacebookAdapter(FacebookSettings(graph_base="https://graph.test"))
    httpx_mock.add_response(status_code=400, json=_graph_error(100, "(#100) The value must be a valid insights "
                                                                    "metric"))
    with pytest.raises(PermanentError):
        adapter.fetch_metrics(CREDS, "555", now=step_clock())
    httpx_mock.add_response(status_code=400, json=_graph_error(32, "Page request limit reached"))
    with pytest.raises(QuotaError):
        adapter.fetch_metrics(CREDS, "555", now=step_clock())
    adapter.http.close()


def test_tiktok_video_query_errors(httpx_mock) -> None:
    adapter = TikTokAdapter(TikTokSettings(api_base="https://open.test"))
    body = {"data": {}, "error": {"code": "scope_not_authorized", "message": "video.list", "log_id": "1"}}
    httpx_mock.add_response(status_code=401, json=body)
    with pytest.raises(AuthError):
        adapter.fetch_metrics(CREDS, "7300000000000000001", now=step_clock())
    body = {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "2"}}
    httpx_mock.add_response(status_code=429, json=body)
    with pytest.raises(QuotaError):
        adapter.fetch_metrics(CREDS, "7300000000000000001", now=step_clock())
    adapter.http.close()
