"""Meta's call-count limits are honoured before the call: the adapters read X-App-Usage and
X-Business-Use-Case-Usage and stop calling for an account before Meta would throttle it.

The sandbox counts calls per Page / account and per app, answers the headers on every call and
refuses (code 32 / 80002 / 4) once a budget is spent, as Meta does.
https://developers.facebook.com/docs/graph-api/overview/rate-limiting
"""

from __future__ import annotations

import pytest

from shared.platforms.errors import QuotaError
from shared.platforms.meta.graph import USAGE_THRESHOLD_PERCENT, usage_percent
from tests.platforms import test_facebook as fb_test
from tests.platforms import test_instagram as ig_test
from tests.platforms.test_facebook import fb  # noqa: F401 - fixture
from tests.platforms.test_instagram import ig  # noqa: F401 - fixture


def _publish_until_held(adapter, make_job, limit: int = 20) -> QuotaError:
    for _ in range(limit):
        try:
            adapter_drive(adapter, make_job())
        except QuotaError as held:
            return held
    raise AssertionError("the adapter never stopped calling")


def adapter_drive(adapter, job) -> None:
    drive = fb_test.drive if adapter.key == "facebook" else ig_test.drive
    drive(adapter, job)


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_calls_stop_before_meta_throttles_the_account(platform, fb, ig, sample_video) -> None:  # noqa: F811
    adapter, sb = fb if platform == "facebook" else ig
    sb.config[f"{platform}.calls_per_hour"] = 25
    make = ((lambda: fb_test.make_job(sb, sample_video)) if platform == "facebook"
            else (lambda: ig_test.make_job(sb, sample_video)))
    held = _publish_until_held(adapter, make)
    assert held.code == "usage_high" and held.retry_at is not None
    assert sb.store(platform).get("usage_refused", []) == []   # Meta never had to say no
    assert sb.published_for(platform)  # what fitted in the budget went out


def test_app_wide_usage_holds_every_account(fb, sample_video) -> None:  # noqa: F811
    adapter, sb = fb
    sb.config["facebook.app_calls_per_hour"] = 10
    with pytest.raises(QuotaError) as held:
        for _ in range(5):
            fb_test.drive(adapter, fb_test.make_job(sb, sample_video))
    assert held.value.code == "usage_high"
    assert "app" in adapter.usage_gate.held_until
    assert sb.store("facebook").get("usage_refused", []) == []


def test_usage_percent_reads_both_headers() -> None:
    headers = {"x-app-usage": '{"call_count": 12, "total_time": 40, "total_cputime": 3}',
               "x-business-use-case-usage": '{"104": [{"type": "pages", "call_count": 93, "total_time": 1,'
                                            ' "total_cputime": 1, "estimated_time_to_regain_access": 0}]}'}
    assert usage_percent(headers) == 93 >= USAGE_THRESHOLD_PERCENT
    assert usage_percent({}) == 0
