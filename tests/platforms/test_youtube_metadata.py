"""How a job becomes YouTube's video resource: title, description, tags, status."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, load
from shared.platforms.base import Credentials, PublishJob
from shared.platforms.errors import PermanentError
from shared.platforms.youtube import YouTubeSettings
from shared.platforms.youtube import metadata as md
from tests.support.steps import publish_job


class _Video:
    url = "https://storage.example.test/v.mp4"
    size = 10
    content_type = "video/mp4"
    filename = "summer_sale-teaser.mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = 1 << 20):
        yield b"0123456789"[start:]


def job(caption: str = "", hashtags: tuple[str, ...] = (), **options) -> PublishJob:
    return publish_job(target_id="t", credentials=Credentials("tok", "UC1"), video=_Video(), caption=caption,
                      hashtags=hashtags, options=options)


def test_tags_count_commas_and_quotes_like_youtube() -> None:
    assert md.tags_length(["a", "bb"]) == 4                  # a,bb
    assert md.tags_length(["two words", "x"]) == 13          # "two words",x
    assert md.tags_length([]) == 0


def test_tags_that_do_not_fit_are_left_out_in_order() -> None:
    tags = ["#" + "a" * 240, "b" * 240, "c" * 30, "d", "B" * 240]
    kept = md.fit_tags(tags)
    assert kept == ["a" * 240, "b" * 240, "d"]
    assert md.tags_length(kept) <= 500
    assert md.fit_tags(["Bread", "bread", "<b>"]) == ["Bread", "b"]


def test_title_comes_from_the_first_caption_line_within_100_chars() -> None:
    assert md.default_title("\n  Big <news> today \nsecond line", "x.mp4") == "Big news today"
    long = md.default_title("word " * 40, "x.mp4")
    assert len(long) <= 100 and long.endswith("…") and "  " not in long
    assert md.default_title("", "summer_sale-teaser.mp4") == "summer sale teaser"
    assert md.default_title("<>", "<>.mp4") == "My Short"


def test_description_adds_only_missing_hashtags() -> None:
    assert md.description("Bake with me #Bread", ("bread", "#baking")) == "Bake with me #Bread\n\n#baking"
    assert md.description("", ("a",)) == "#a"


def test_resource_defaults_and_options() -> None:
    resource = md.video_resource(job("Hello", ("hi",)))
    assert resource["snippet"] == {"title": "Hello", "description": "Hello\n\n#hi", "tags": ["hi"],
                                   "categoryId": "22"}
    assert resource["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False,
                                  "containsSyntheticMedia": True}
    custom = md.video_resource(job("Hello", privacy="Unlisted", made_for_kids=True, category_id=27,
                                   tags=["x y"], description="Own text", default_language="fr"))
    assert custom["status"]["privacyStatus"] == "unlisted" and custom["status"]["selfDeclaredMadeForKids"]
    assert custom["snippet"]["categoryId"] == "27" and custom["snippet"]["tags"] == ["x y"]
    assert custom["snippet"]["description"] == "Own text" and custom["snippet"]["defaultLanguage"] == "fr"
    assert md.notify_subscribers(job(notify_subscribers="false")) is False


def test_unknown_privacy_is_refused_in_plain_words() -> None:
    with pytest.raises(PermanentError, match="public, unlisted or private"):
        md.video_resource(job("x", privacy_status="friends"))


def test_chunk_size_must_be_a_multiple_of_256_kib(monkeypatch) -> None:
    monkeypatch.setenv("YOUTUBE_UPLOAD_CHUNK_BYTES", str(1000 * 1000))
    with pytest.raises(ConfigError, match="YOUTUBE_UPLOAD_CHUNK_BYTES"):
        load(YouTubeSettings)
    monkeypatch.setenv("YOUTUBE_UPLOAD_CHUNK_BYTES", str(32 * 256 * 1024))
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "client-from-env")
    settings = load(YouTubeSettings)
    assert settings.upload_chunk_bytes == 8 * 1024 * 1024 and settings.client_id == "client-from-env"


def test_base_url_and_limits_follow_the_environment(monkeypatch) -> None:
    from shared.platforms.youtube.publisher import build_limits, build_quotas

    monkeypatch.setenv("YOUTUBE_API_BASE", "http://google.example.test")
    monkeypatch.setenv("YOUTUBE_SHORTS_MAX_SECONDS", "60")
    monkeypatch.setenv("YOUTUBE_DAILY_UPLOADS", "250")
    monkeypatch.setenv("YOUTUBE_CHANNEL_DAILY_UPLOADS", "7")
    monkeypatch.setenv("YOUTUBE_DAILY_UPLOADS_PER_USER", "12")
    settings = load(YouTubeSettings)
    assert settings.api_base == "http://google.example.test"
    assert build_limits(settings).media.max_duration_s == 60
    assert {q.name: q.limit for q in build_quotas(settings)} == {
        "videos.insert.per_user": 12, "videos.insert": 250, "channel_uploads": 7}
    monkeypatch.setenv("YOUTUBE_API_BASE", "http://youtube.example.test")
    assert load(YouTubeSettings).api_base == "http://youtube.example.test"
