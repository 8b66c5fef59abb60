"""Instagram facts the sandbox mirrors: the publishing limit when Meta sends no `config`."""

from __future__ import annotations

import pytest

from shared.platforms.errors import QuotaError
from shared.platforms.instagram import errors
from tests.platforms.test_instagram import fault, ig, make_job  # noqa: F401 - fixture


def test_without_config_the_documented_50_posts_apply(ig, sample_video) -> None:  # noqa: F811
    adapter, sb = ig
    sb.config["instagram.send_config"] = False
    fault(sb, "publishing_limit", "quota")  # 50 posts already in the rolling window
    with pytest.raises(QuotaError) as caught:
        adapter.run_step("check_quota", make_job(sb, sample_video), {"container_id": "1"})
    assert caught.value.code == "content_publishing_limit"
    assert caught.value.detail == {"quota_usage": 50, "quota_total": 50}
    assert caught.value.user_message == errors.DAILY_LIMIT


def test_newer_processing_subcodes_are_converted_and_retried() -> None:
    for subcode in (2207082, 2207085):
        rule = errors.RULES_BY_SUBCODE[subcode]
        assert getattr(rule.error, "fixable_by_conversion", False) is True
        assert "Instagram" in rule.message and "Error" not in rule.message
