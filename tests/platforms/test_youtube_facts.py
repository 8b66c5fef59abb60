"""YouTube facts the sandbox mirrors: Analytics reports (shares, watch time, average view
duration, with yt-analytics.readonly + youtube.readonly), and the channel's daily upload cap
as one declared assumption.
"""

from __future__ import annotations

import httpx
import pytest

from shared.platforms.base import Credentials
from shared.platforms.errors import QuotaError
from shared.platforms.youtube import YouTubeAdapter
from shared.platforms.youtube.oauth import YouTubeOAuth
from shared.platforms.youtube.settings import CHANNEL_DAILY_UPLOADS_ASSUMED, YouTubeSettings
from tests.platforms.test_youtube import CHANNEL, drive, make_job
from tests.support.steps import step_clock

ANALYTICS = "https://www.googleapis.com/auth/yt-analytics.readonly"
READONLY = "https://www.googleapis.com/auth/youtube.readonly"
UPLOAD = "https://www.googleapis.com/auth/youtube.upload"


@pytest.fixture
def adapter(sandbox):
    settings = YouTubeSettings(api_base=sandbox.url + "/googleapis", analytics_base=sandbox.url + "/youtubeanalytics",
                               processing_poll_min_seconds=0)
    adapter = YouTubeAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(10.0)))
    sandbox.sandbox.config["processing_seconds"] = 0
    sandbox.sandbox.add_account("youtube", CHANNEL, title="Sunny Bakes")
    yield adapter
    adapter.http.close()


def _published(sandbox, adapter, sample_video, scopes: tuple[str, ...]) -> tuple[str, str]:
    token = sandbox.sandbox.mint_token("youtube", CHANNEL, scopes=scopes).value
    outcome, _ = drive(adapter, make_job(sample_video, token))
    return token, outcome.published.platform_post_id


def test_metrics_read_shares_and_watch_time_from_analytics(sandbox, adapter, sample_video) -> None:
    token, video_id = _published(sandbox, adapter, sample_video, YouTubeOAuth.DEFAULT_SCOPES)
    metrics = adapter.fetch_metrics(Credentials(access_token=token, account_id=CHANNEL), video_id, now=step_clock())
    assert metrics.views is not None and metrics.shares is not None and 0 <= metrics.shares <= metrics.views
    assert metrics.watch_time_seconds == metrics.raw["analytics.estimatedMinutesWatched"] * 60
    assert metrics.raw["analytics.averageViewDuration"] > 0


def test_without_the_analytics_scope_the_data_api_counts_still_come(sandbox, adapter, sample_video) -> None:
    token, video_id = _published(sandbox, adapter, sample_video, (UPLOAD, READONLY))
    metrics = adapter.fetch_metrics(Credentials(access_token=token, account_id=CHANNEL), video_id, now=step_clock())
    assert metrics.views is not None and metrics.shares is None and metrics.watch_time_seconds is None


def test_analytics_needs_youtube_readonly_too(sandbox, adapter, sample_video) -> None:
    token, video_id = _published(sandbox, adapter, sample_video, (UPLOAD, ANALYTICS))
    answer = httpx.get(f"{sandbox.url}/youtubeanalytics/v2/reports", headers={"Authorization": f"Bearer {token}"},
                       params={"ids": "channel==MINE", "startDate": "2026-01-01", "endDate": "2026-12-31",
                               "metrics": "views,shares", "dimensions": "video", "filters": f"video=={video_id}"})
    assert answer.status_code == 403
    assert answer.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_channel_cap_is_one_assumption_for_adapter_and_sandbox(sandbox, adapter, sample_video) -> None:
    rule = next(r for r in YouTubeAdapter.quotas if r.name == "channel_uploads")
    assert rule.limit == CHANNEL_DAILY_UPLOADS_ASSUMED
    sandbox.sandbox.config["youtube.daily_uploads"] = 1000
    token = sandbox.sandbox.mint_token("youtube", CHANNEL).value
    for _ in range(CHANNEL_DAILY_UPLOADS_ASSUMED):
        drive(adapter, make_job(sample_video, token))
    with pytest.raises(QuotaError) as caught:  # the next one is where YouTube says uploadLimitExceeded
        adapter.run_step("start_upload", make_job(sample_video, token), {})
    assert caught.value.code == "uploadLimitExceeded"
