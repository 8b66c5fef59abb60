"""fetch_metrics of every platform that has metrics, against its sandbox over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from shared.platforms.base import Credentials
from shared.platforms.blotato import BlotatoAdapter
from shared.platforms.errors import AuthError, PermanentError, QuotaError
from shared.platforms.facebook import FacebookAdapter, FacebookSettings
from tests.platforms import test_facebook as fb_test
from tests.platforms import test_instagram as ig_test
from tests.platforms import test_tiktok as tt_test
from tests.platforms import test_youtube as yt_test
from tests.platforms.test_facebook import fb  # noqa: F401 - fixture
from tests.platforms.test_instagram import ig  # noqa: F401 - fixture
from tests.platforms.test_tiktok import tiktok  # noqa: F401 - fixture
from tests.platforms.test_youtube import youtube  # noqa: F401 - fixture
from tests.support.steps import faults_on, step_clock

A_WEEK = 7 * 86400


def _assert_plausible(metrics, *, saves: bool) -> None:
    assert metrics.views is not None and metrics.views > 0
    for count in (metrics.likes, metrics.comments, metrics.shares):
        assert count is not None and 0 <= count <= metrics.views
    assert (metrics.saves is not None) is saves


# ------------------------------------------------------------------------ Instagram


def test_instagram_reads_reel_insights_that_grow(ig, sample_video) -> None:  # noqa: F811
    adapter, sb = ig
    published, _, _ = ig_test.drive(adapter, ig_test.make_job(sb, sample_video))
    credentials = Credentials(access_token=sb.mint_token("instagram", ig_test.ACCOUNT).value,
                              account_id=ig_test.ACCOUNT)
    first = adapter.fetch_metrics(credentials, published.platform_post_id, now=step_clock())
    _assert_plausible(first, saves=True)
    assert first.watch_time_seconds is not None and first.watch_time_seconds > 0
    assert set(first.raw) >= {"views", "reach", "total_interactions", "ig_reels_avg_watch_time"}
    assert "plays" not in first.raw and "impressions" not in first.raw
    sb.config["metrics_age_offset_seconds"] = A_WEEK
    later = adapter.fetch_metrics(credentials, published.platform_post_id, now=step_clock())
    assert later.views > first.views and later.likes >= first.likes


def test_instagram_not_enough_viewers_is_no_numbers_not_a_failure(ig, sample_video) -> None:  # noqa: F811
    adapter, sb = ig
    published, _, _ = ig_test.drive(adapter, ig_test.make_job(sb, sample_video))
    faults_on("instagram")(sb, "insights", "not_enough_viewers")
    token = sb.mint_token("instagram", ig_test.ACCOUNT).value
    metrics = adapter.fetch_metrics(Credentials(access_token=token, account_id=ig_test.ACCOUNT),
                                    published.platform_post_id, now=step_clock())
    assert (metrics.views, metrics.likes, metrics.comments) == (None, None, None)
    assert metrics.raw == {"not_enough_viewers": True}


def test_instagram_missing_insights_permission_and_expired_token(ig, sample_video) -> None:  # noqa: F811
    adapter, sb = ig
    published, _, _ = ig_test.drive(adapter, ig_test.make_job(sb, sample_video))
    no_insights = sb.mint_token("instagram", ig_test.ACCOUNT, scopes=("instagram_business_basic",)).value
    with pytest.raises(PermanentError) as refused:
        adapter.fetch_metrics(Credentials(access_token=no_insights, account_id=ig_test.ACCOUNT),
                              published.platform_post_id, now=step_clock())
    assert refused.value.code == "10"
    faults_on("instagram")(sb, "insights", "expired_token")
    token = sb.mint_token("instagram", ig_test.ACCOUNT).value
    with pytest.raises(AuthError):
        adapter.fetch_metrics(Credentials(access_token=token, account_id=ig_test.ACCOUNT),
                              published.platform_post_id, now=step_clock())


# ------------------------------------------------------------------------- Facebook


def test_facebook_reads_reel_video_insights(fb, sample_video) -> None:  # noqa: F811
    adapter, sb = fb
    published, _, _ = fb_test.drive(adapter, fb_test.make_job(sb, sample_video))
    credentials = Credentials(access_token=sb.mint_token("facebook", fb_test.PAGE).value, account_id=fb_test.PAGE)
    metrics = adapter.fetch_metrics(credentials, published.platform_post_id, now=step_clock())
    _assert_plausible(metrics, saves=False)
    reactions = metrics.raw["post_video_likes_by_reaction_type"]
    assert metrics.likes == sum(reactions.values())
    assert metrics.comments == metrics.raw["post_video_social_actions"]["COMMENT"]
    assert metrics.views == metrics.raw["blue_reels_play_count"] <= metrics.raw["fb_reels_total_plays"]
    assert metrics.watch_time_seconds == metrics.raw["post_video_view_time"] / 1000


def test_facebook_rate_limit_and_unknown_metric(fb, sample_video, sandbox) -> None:  # noqa: F811
    adapter, sb = fb
    published, _, _ = fb_test.drive(adapter, fb_test.make_job(sb, sample_video))
    credentials = Credentials(access_token=sb.mint_token("facebook", fb_test.PAGE).value, account_id=fb_test.PAGE)
    faults_on("facebook")(sb, "insights", "rate_limited", params={"minutes": 7})
    with pytest.raises(QuotaError) as limited:
        adapter.fetch_metrics(credentials, published.platform_post_id, now=step_clock())
    assert limited.value.retry_at is not None
    renamed = FacebookAdapter(
        FacebookSettings(graph_base=sandbox.url + "/facebook-graph", insights_metrics="fb_reels_views_v2"),
        http=adapter.http,
    )
    with pytest.raises(PermanentError):
        renamed.fetch_metrics(credentials, published.platform_post_id, now=step_clock())


# --------------------------------------------------------------------------- TikTok


def test_tiktok_reads_video_counts_with_video_list(tiktok, sample_video) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    outcome, _ = tt_test.drive(adapter, tt_test.make_job(sample_video, token))
    post_id = outcome.published.platform_post_id
    assert post_id.isdigit()
    credentials = Credentials(access_token=token, account_id=tt_test.OPEN_ID)
    metrics = adapter.fetch_metrics(credentials, post_id, now=step_clock())
    _assert_plausible(metrics, saves=False)
    assert metrics.raw["id"] == post_id and metrics.watch_time_seconds is None
    sb.config["metrics_age_offset_seconds"] = A_WEEK
    assert adapter.fetch_metrics(credentials, post_id, now=step_clock()).views > metrics.views


def test_tiktok_without_video_list_scope_or_public_id(tiktok, sample_video) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    outcome, data = tt_test.drive(adapter, tt_test.make_job(sample_video, token))
    publish_only = sb.mint_token("tiktok", tt_test.OPEN_ID, scopes=("video.publish",)).value
    with pytest.raises(AuthError) as refused:
        adapter.fetch_metrics(Credentials(access_token=publish_only, account_id=tt_test.OPEN_ID),
                              outcome.published.platform_post_id, now=step_clock())
    assert refused.value.code == "scope_not_authorized"
    with pytest.raises(PermanentError) as private:
        adapter.fetch_metrics(Credentials(access_token=token, account_id=tt_test.OPEN_ID), "v_pub_file~v2-1.123",
                              now=step_clock())
    assert "not made this video public" in private.value.user_message
    with pytest.raises(PermanentError) as gone:
        adapter.fetch_metrics(Credentials(access_token=token, account_id=tt_test.OPEN_ID), "7300000000000000001",
                              now=step_clock())
    assert gone.value.code == "video_not_found"


# -------------------------------------------------------------------------- YouTube


def test_youtube_statistics_grow_until_set(youtube, sample_video) -> None:  # noqa: F811
    sb, adapter, token = youtube
    _, data = yt_test.drive(adapter, yt_test.make_job(sample_video, token))
    credentials = Credentials(access_token=token, account_id=yt_test.CHANNEL)
    first = adapter.fetch_metrics(credentials, data["video_id"], now=step_clock())
    assert first.views and first.views > 0 and first.likes is not None
    assert first.shares is not None  # from the YouTube Analytics API, which the Data API lacks
    sb.config["metrics_age_offset_seconds"] = A_WEEK
    assert adapter.fetch_metrics(credentials, data["video_id"], now=step_clock()).views > first.views


def test_every_platform_but_blotato_reports_metrics() -> None:
    from shared.analytics.collect import reports_metrics
    from shared.platforms import adapters

    reporting = {key for key, cls in adapters().items() if reports_metrics(cls)}
    assert reporting == {"instagram", "facebook", "tiktok", "youtube"}
    assert not reports_metrics(BlotatoAdapter)


def test_facebook_never_asks_for_deprecated_impression_metrics(fb, sample_video, sandbox) -> None:  # noqa: F811
    adapter, sb = fb
    published, _, _ = fb_test.drive(adapter, fb_test.make_job(sb, sample_video))
    token = sb.mint_token("facebook", fb_test.PAGE).value
    # Meta refuses the whole call when one metric is deprecated.
    answer = httpx.get(f"{sandbox.url}/facebook-graph/v26.0/{published.platform_post_id}/video_insights",
                       params={"metric": "blue_reels_play_count,post_impressions_unique"},
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100
    # An operator setting that still names one does not break metrics.
    old_setting = FacebookAdapter(
        FacebookSettings(graph_base=sandbox.url + "/facebook-graph",
                         insights_metrics="blue_reels_play_count,post_impressions_unique,post_video_social_actions"),
        http=adapter.http,
    )
    metrics = old_setting.fetch_metrics(Credentials(access_token=token, account_id=fb_test.PAGE),
                                        published.platform_post_id, now=step_clock())
    assert metrics.views is not None and "post_impressions_unique" not in metrics.raw
