"""POST /publish-video/preview agrees with POST /publish-video: the same text reaches each
platform byte for byte, the same problems refuse a publish, and a preview stores nothing and
calls no platform write endpoint.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.platforms.youtube import YouTubeAdapter
from shared.platforms.youtube.publisher import build_quotas
from shared.platforms.youtube.settings import YouTubeSettings
from tests.pipeline.api import call
from tests.pipeline.flows import connect, target_request
from tests.support.stack import Harness

CAPTION = "Fresh drop 🌸 春の新作を見てね #sale"
TABLES = ("posts", "publish_targets", "idempotency_keys", "platform_quota_usage", "publish_events")


def _counts(harness: Harness) -> dict[str, int]:
    with harness.db.service() as conn:
        return {t: conn.execute(f"select count(*) as n from {t}").fetchone()["n"] for t in TABLES}  # noqa: S608


def _preview(harness: Harness, monkeypatch: Any, user: dict, body: dict) -> tuple[int, Any]:
    return call(harness, monkeypatch, "POST", "/preview", user=user, json=body)


def _sent(harness: Harness, target_id: str, platform: str) -> dict[str, str]:
    """What the sandbox received for one target, by the platform's field names."""
    post_id = harness.target(target_id)["platform_post_id"]
    records = [r for r in harness.published(platform) if post_id in (r["post_id"], r.get("post_submission_id"))]
    assert len(records) == 1, (platform, post_id, harness.published(platform))
    record = records[0]
    text_field = "description" if platform in ("youtube", "facebook") else "caption"
    sent = {text_field: record["caption"]}
    if record.get("title"):
        sent["title"] = record["title"]
    return sent


# Each platform with the text shapes that go wrong most easily: per-target overrides, hashtags
# given with and without '#', emoji and CJK (UTF-16 pairs, multi-byte), a tag already in the text.
TARGETS = {
    "tiktok": {**target_request("tiktok"), "hashtags": ["#spring", "新作", "sale"]},
    "blotato": {**target_request("blotato"), "caption": "Via Blotato 😀 only"},
    "instagram": {"platform": "instagram", "hashtags": ["reels", "#ファッション"]},
    "youtube": {"platform": "youtube", "title": "Spring 🌸 drop 春"},
    "facebook": {"platform": "facebook", "caption": "Only on Facebook 😀 #fb", "hashtags": ["fb", "#новинка"]},
}


@pytest.mark.parametrize("platforms", [("tiktok", "instagram", "youtube", "facebook"), ("blotato",)])
def test_preview_text_is_what_each_platform_receives(
    harness: Harness, monkeypatch, user_a, vertical_video, platforms: tuple[str, ...]
) -> None:
    for platform in platforms:
        connect(harness, user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    body = {"video_id": video_id, "caption": CAPTION, "hashtags": ["#launch", "sale"],
            "targets": [TARGETS[p] for p in platforms]}

    status, preview = _preview(harness, monkeypatch, user_a, body)
    assert status == 200, preview
    assert preview["publishable"] and preview["problems"] == []

    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 202, answer
    harness.run()
    by_platform = {t["platform"]: t["target_id"] for t in answer["targets"]}
    for target in preview["targets"]:
        platform = target["platform"]
        assert harness.target(by_platform[platform])["state"] == "published"
        shown = {t["field"]: t["text"] for t in target["texts"]}
        sent = _sent(harness, by_platform[platform], platform)
        assert {k: v.encode() for k, v in shown.items()} == {k: v.encode() for k, v in sent.items()}, platform
        assert all(t["fits"] for t in target["texts"])
        assert target["media"] == {"verdict": "fits", "reasons": [], "rendition_ready": True}
        assert target["schedule"]["publish_now"] and target["schedule"]["fits_budget"]
        assert target["account"]["username"]
    if "tiktok" in platforms:
        tiktok = next(t for t in preview["targets"] if t["platform"] == "tiktok")
        # The TikTok caption counts UTF-16 units: every emoji above the BMP counts twice.
        caption = tiktok["texts"][0]
        assert caption["unit"] == "utf16" and caption["length"] == len(caption["text"].encode("utf-16-le")) // 2
        assert caption["length"] > len(caption["text"])
        assert "privacy_level_options" in tiktok["creator_options"]
        assert tiktok["options"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    if "instagram" in platforms:
        instagram = next(t for t in preview["targets"] if t["platform"] == "instagram")
        caption = instagram["texts"][0]
        assert caption["feed_cutoff"] == 125 and caption["visible_in_feed"] == caption["text"][:125]
        assert caption["feed_cutoff_source"].startswith("https://")
    for target in preview["targets"]:
        if target["network"] == "instagram":
            continue
        # No source gives a number for these feeds: the answer says so instead of guessing.
        for shown in target["texts"]:
            assert shown["feed_cutoff"] is None and shown["visible_in_feed"] is None
            if shown["field"] in ("caption", "description"):
                assert shown["feed_cutoff_source"].startswith("not documented: "), shown


def test_over_limit_text_is_the_problem_publish_refuses_with(
    harness: Harness, monkeypatch, user_a, vertical_video
) -> None:
    connect(harness, user_a, "tiktok")
    connect(harness, user_a, "youtube")
    video_id = harness.video(user_a, vertical_video)
    # 1,101 emoji: 2,202 UTF-16 units for TikTok; 101 characters of YouTube title; "<" YouTube refuses.
    body = {"video_id": video_id, "caption": "😀" * 1101,
            "targets": [target_request("tiktok"), {"platform": "youtube", "title": "x" * 100 + "<"}]}
    before = _counts(harness)
    status, preview = _preview(harness, monkeypatch, user_a, body)
    assert status == 200, preview
    assert not preview["publishable"]
    codes = {(p["field"], p["code"]) for p in preview["problems"]}
    assert ("targets.0.caption", "caption_too_long") in codes
    assert ("targets.1.title", "title_too_long") in codes
    assert ("targets.1.title", "forbidden_characters") in codes
    tiktok_caption = preview["targets"][0]["texts"][0]
    assert tiktok_caption["length"] == 2202 and tiktok_caption["limit"] == 2200 and not tiktok_caption["fits"]

    status, refused = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 422 and refused["code"] == "not_publishable"
    assert refused["detail"] == preview["problems"]
    assert _counts(harness) == before


def test_a_file_that_needs_conversion_is_announced_and_published_converted(
    harness: Harness, monkeypatch, user_a, media_dir
) -> None:
    from shared.media.samples import make_video

    mpeg4 = make_video(media_dir / "preview-mpeg4.mp4", seconds=4, width=540, height=960, video_codec="mpeg4")
    connect(harness, user_a, "instagram")
    video_id = harness.video(user_a, mpeg4)
    body = {"video_id": video_id, "caption": "Converted 🌸", "targets": [{"platform": "instagram"}]}
    status, preview = _preview(harness, monkeypatch, user_a, body)
    assert status == 200 and preview["publishable"], preview
    media = preview["targets"][0]["media"]
    assert media["verdict"] == "will_convert" and media["reasons"] and media["rendition_ready"] is False

    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 202, answer
    harness.run()
    target_id = answer["targets"][0]["target_id"]
    assert harness.target(target_id)["state"] == "published"
    assert _sent(harness, target_id, "instagram")["caption"] == preview["targets"][0]["texts"][0]["text"]
    status, again = _preview(harness, monkeypatch, user_a, body)
    assert again["targets"][0]["media"]["rendition_ready"] is True


def test_an_over_budget_schedule_is_the_problem_publish_refuses_with(
    harness: Harness, monkeypatch, user_a, vertical_video
) -> None:
    monkeypatch.setattr(YouTubeAdapter, "quotas", build_quotas(YouTubeSettings(daily_uploads_per_user=1)))
    connect(harness, user_a, "youtube")
    video_id = harness.video(user_a, vertical_video)
    at = (harness.clock.now + timedelta(days=2)).replace(hour=18, minute=0, second=0, microsecond=0)
    body = {"video_id": video_id, "caption": "Daily", "publish_at": at.isoformat(), "timezone": "Asia/Tokyo",
            "targets": [target_request("youtube")]}
    status, preview = _preview(harness, monkeypatch, user_a, body)
    assert status == 200 and preview["publishable"], preview
    schedule = preview["targets"][0]["schedule"]
    assert schedule["at_utc"] == at.isoformat() and schedule["at_local"].endswith("+09:00")
    assert schedule["fits_budget"] and schedule["budgets"] and schedule["earliest_fit_utc"] is None
    status, _ = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 202

    status, preview = _preview(harness, monkeypatch, user_a, body)
    assert status == 200 and not preview["publishable"]
    assert not preview["targets"][0]["schedule"]["fits_budget"]
    # The next Pacific day has room again (YouTube's budget days end at midnight Pacific).
    assert preview["targets"][0]["schedule"]["earliest_fit_utc"] == (at + timedelta(days=1)).isoformat()
    assert [(p["field"], p["code"]) for p in preview["problems"]] == [("targets.0.publish_at", "over_platform_limit")]
    status, refused = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 409 and refused["code"] == "over_platform_limit"
    assert refused["detail"]["problems"] == preview["problems"]
    assert refused["message"] == preview["problems"][0]["message"]


def test_preview_stores_nothing_and_calls_no_write_endpoint(
    harness: Harness, monkeypatch, user_a, vertical_video
) -> None:
    for platform in ("tiktok", "instagram", "youtube", "facebook"):
        connect(harness, user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    body = {"video_id": video_id, "caption": CAPTION,
            "targets": [TARGETS[p] for p in ("tiktok", "instagram", "youtube", "facebook")]}
    before = _counts(harness)
    sandbox = harness.sandbox.sandbox
    with sandbox.lock:
        sandbox.requests.clear()
    published_before = len(sandbox.published_for())
    for _ in range(3):
        status, preview = _preview(harness, monkeypatch, user_a, body)
        assert status == 200 and preview["publishable"], preview
    assert _counts(harness) == before
    assert len(sandbox.published_for()) == published_before
    # The only platform call a preview may make is TikTok's creator_info query (a read).
    called = {(r["method"], r["path"]) for r in sandbox.requests}
    assert all(method == "GET" or "creator_info" in path for method, path in called), called
    assert harness.adapter_requests == []
