"""Mail texts: plain language, the right links, one key per event."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.notify import templates

APP = "https://app.example.com"


def test_published_mail_names_the_platform_and_links_the_post():
    subject, body = templates.post_published(platform="youtube", post_url="https://youtube.com/shorts/abc",
                                             caption="My   cat\nlearns to surf")
    assert subject == "Your video is live on YouTube Shorts"
    assert "https://youtube.com/shorts/abc" in body
    assert 'Your video "My cat learns to surf" was published' in body


def test_published_mail_without_a_link_points_to_the_profile():
    _, body = templates.post_published(platform="blotato", post_url=None, caption="x" * 200)
    assert "TikTok (via Blotato) profile" in body
    assert "…" in body and "x" * 60 not in body


def test_failed_mail_gives_the_reason_and_the_retry_link():
    subject, body = templates.post_failed(platform="instagram", reason="The video is longer than 15 minutes.",
                                          post_id="p-1", frontend_url="https://app.example.com/")
    assert subject == "We could not publish your video on Instagram Reels"
    assert "What went wrong: The video is longer than 15 minutes." in body
    assert "https://app.example.com/posts/p-1" in body
    assert "Retry" in body


def test_failed_mail_uses_frontend_url_from_settings(monkeypatch, make_app):
    monkeypatch.setenv("FRONTEND_URL", "https://studio.example.com")
    settings = make_app().settings
    _, body = templates.post_failed(platform="facebook", reason="Try again later.", post_id="p-2",
                                    frontend_url=settings.frontend_url)
    assert "https://studio.example.com/posts/p-2" in body


def test_connection_mails_give_the_date_in_the_users_zone_and_the_reconnect_link():
    subject, body = templates.connection_expiring(
        platform="tiktok", account="@maya", expires_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        timezone="America/Los_Angeles", frontend_url="https://app.example.com")
    assert subject == "Your TikTok connection stops working in 7 days"
    assert "Monday 30 November 2026" in body  # 03:00 UTC is still the 30th in Los Angeles
    assert "(@maya)" in body and "https://app.example.com/connections" in body

    subject, body = templates.connection_expired(platform="youtube", account="Maya's channel",
                                                 frontend_url="https://app.example.com")
    assert subject == "Your YouTube Shorts connection expired"
    assert "https://app.example.com/connections" in body
    assert "publish automatically after you reconnect" in body


def test_no_mail_shows_internal_words():
    mails = [
        templates.post_published(platform="tiktok", post_url=None),
        templates.post_failed(platform="tiktok", reason="Please reconnect TikTok.", post_id="p", frontend_url=APP),
        templates.connection_expiring(platform="facebook", account="Page", expires_at=datetime.now(UTC),
                                      frontend_url=APP),
        templates.connection_expired(platform="instagram", account="@a", frontend_url=APP),
    ]
    for subject, body in mails:
        for word in ("None", "null", "error_code", "Exception", "target_id", "{", "}"):
            assert word not in subject + body


def test_dedupe_keys_are_one_per_event():
    assert templates.dedupe_key(templates.POST_PUBLISHED, "t-1") == "post_published:t-1"
    third, fourth = (templates.dedupe_key(templates.POST_FAILED, "t-1", n) for n in (3, 4))
    assert third != fourth


def test_brand_names_are_spelled_right_even_when_handed_the_display_name():
    # Callers that already had the display name used to get "Tiktok" and "Youtube Shorts" back.
    for given in ("tiktok", "TikTok"):
        assert templates.platform_name(given) == "TikTok"
    for given in ("youtube", "YouTube Shorts"):
        assert templates.platform_name(given) == "YouTube Shorts"
    subject, _ = templates.posts_published(items=[("tiktok", None), ("youtube", "https://youtube.com/shorts/x")])
    assert subject == "Your video is live on TikTok and YouTube Shorts"
    assert templates.post_deferred(platform="youtube", message="Later.", post_id="p", frontend_url=APP)[0] == \
        "Your video will publish later on YouTube Shorts"
