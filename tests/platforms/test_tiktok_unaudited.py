"""TikTok before the app's audit: SELF_ONLY posts from private accounts, at most 5 users per 24 h.

https://developers.tiktok.com/doc/content-sharing-guidelines/ — the sandbox's `unaudited`
setting enforces the same rule, so an adapter that ignores it fails here.
"""

from __future__ import annotations

import httpx
import pytest

from shared.platforms.errors import PermanentError, QuotaError
from shared.platforms.tiktok import TikTokAdapter, TikTokSettings
from shared.platforms.tiktok.chunks import MB
from shared.platforms.tiktok.errors import UNAUDITED_MESSAGE
from tests.platforms.test_tiktok import OPEN_ID, drive, make_job, tiktok  # noqa: F401 - fixture


@pytest.fixture
def unaudited(sandbox, tiktok):  # noqa: F811
    sb, _, token = tiktok
    sb.config["tiktok.unaudited"] = True
    settings = TikTokSettings(api_base=sandbox.url + "/tiktok", poll_seconds=0, chunk_bytes=5 * MB,
                              app_audited=False)
    adapter = TikTokAdapter(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    yield sb, adapter, token
    adapter.http.close()


def test_unaudited_public_account_is_told_plainly_before_anything_is_sent(unaudited, sample_video) -> None:
    sb, adapter, token = unaudited
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token, privacy_level="SELF_ONLY"), {})
    assert caught.value.user_message == UNAUDITED_MESSAGE
    assert "only private accounts can post" in caught.value.user_message
    assert sb.store("tiktok").get("publishes", {}) == {}


def test_unaudited_private_account_posts_only_to_itself(unaudited, sample_video) -> None:
    sb, adapter, token = unaudited
    sb.add_account("tiktok", OPEN_ID, username="sunny.bakes", private=True)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("creator_info", make_job(sample_video, token, privacy_level="FOLLOWER_OF_CREATOR"), {})
    assert caught.value.user_message == UNAUDITED_MESSAGE
    outcome, _ = drive(adapter, make_job(sample_video, token, privacy_level="SELF_ONLY"))
    assert outcome.published is not None
    assert [p["privacy_level"] for p in sb.published_for("tiktok")] == ["SELF_ONLY"]


def test_app_thought_audited_gets_the_same_message_from_tiktoks_refusal(tiktok, sample_video) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    sb.config["tiktok.unaudited"] = True  # the operator setting is wrong: TikTok's answer tells
    data = {}
    outcome = adapter.run_step("creator_info", make_job(sample_video, token, privacy_level="SELF_ONLY"), data)
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("init", make_job(sample_video, token), outcome.data)
    assert caught.value.code == "unaudited_client_can_only_post_to_private_accounts"
    assert caught.value.user_message == UNAUDITED_MESSAGE


def test_sixth_user_in_a_day_waits(unaudited, sample_video) -> None:
    sb, adapter, _ = unaudited
    for n in range(5):
        sb.add_account("tiktok", f"open-{n}", username=f"u{n}", private=True)
        token = sb.mint_token("tiktok", f"open-{n}").value
        drive(adapter, make_job(sample_video, token, privacy_level="SELF_ONLY"))
    sb.add_account("tiktok", "open-6", username="u6", private=True)
    token = sb.mint_token("tiktok", "open-6").value
    job = make_job(sample_video, token, privacy_level="SELF_ONLY")
    outcome = adapter.run_step("creator_info", job, {})
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("init", job, outcome.data)
    assert caught.value.code == "reached_active_user_cap" and caught.value.retry_at is not None
    assert "at most 5 accounts" in caught.value.user_message
