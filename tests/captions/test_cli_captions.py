"""`shortpub captions` and `shortpub publish --suggested` against the real functions server."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from shared.cli import app
from tests.captions.conftest import JWT_SECRET

runner = CliRunner()
WIDE = {"COLUMNS": "220"}


@pytest.fixture
def cli(api, user, monkeypatch):
    from shared.auth import mint_local_token

    monkeypatch.setenv("SHORTPUB_API_URL", api.base_url)
    monkeypatch.setenv("SHORTPUB_TOKEN", mint_local_token(user["sub"], user["email"], secret=JWT_SECRET))
    monkeypatch.setenv("TZ", "Europe/Berlin")
    return api


def test_captions_prints_each_platforms_suggestion_with_its_count(cli, user):
    video_id = cli.video(user, brand="Bean There")
    result = runner.invoke(app, ["captions", video_id, "--for", "tiktok,instagram,youtube,facebook",
                                 "--brief", "20% off all lattes this weekend"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Suggestions by the built-in writer (en, friendly)" in out
    for name in ("TikTok", "Instagram", "YouTube", "Facebook"):
        assert name in out
    assert "#beanthere" in out
    assert "caption: " in out and "/ 2200 characters" in out and "/ 5000 bytes" in out
    assert "title: " in out and "/ 100 characters" in out
    assert "Nothing was posted." in out


def test_captions_explains_bad_input(cli, user):
    bad_id = runner.invoke(app, ["captions", "latte", "--for", "tiktok"])
    assert bad_id.exit_code == 2 and "'latte' is not a video id" in bad_id.output
    bad_platform = runner.invoke(app, ["captions", str(uuid.uuid4()), "--for", "myspace"])
    assert bad_platform.exit_code == 2 and "We can't publish to 'myspace'" in bad_platform.output
    missing = runner.invoke(app, ["captions", str(uuid.uuid4()), "--for", "tiktok"])
    assert missing.exit_code == 1 and "We couldn't find that video." in missing.output
    assert "Traceback" not in missing.output


def test_publish_suggested_uploads_with_context_and_publishes_the_suggestions(cli, user, db, sample_video):
    with db.service() as conn:
        for platform in ("youtube", "instagram"):
            conn.execute("insert into social_connections (user_id, platform, platform_account_id, username) "
                         "values (%s, %s, %s, 'cafe')", (user["sub"], platform, f"acct-{uuid.uuid4().hex[:8]}"))
    at = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(app, [
        "publish", str(sample_video.path), "--to", "youtube,instagram", "--suggested", "--at", at, "--no-wait",
        "--describe", "Our baristas pour latte art with oat milk every morning in our downtown coffee shop.",
        "--brand", "Bean There", "--language", "en", "--caption", "20% off all lattes this weekend",
    ], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Suggestions by the built-in writer" in result.output
    with db.service() as conn:
        video = conn.execute("select id, description, brand, language from videos where user_id = %s",
                             (user["sub"],)).fetchone()
        targets = conn.execute("select t.platform, t.caption, t.title, t.hashtags from publish_targets t "
                               "join posts p on p.id = t.post_id where p.video_id = %s order by t.platform",
                               (video["id"],)).fetchall()
    assert video["brand"] == "Bean There" and video["language"] == "en"
    assert video["description"].startswith("Our baristas pour latte art")
    instagram, youtube = targets
    assert instagram["platform"] == "instagram" and "20% off all lattes this weekend" in instagram["caption"]
    assert 3 <= len(instagram["hashtags"]) <= 5 and "beanthere" in instagram["hashtags"]
    assert youtube["title"].startswith("Coffee Shop | Bean There") and len(youtube["title"]) <= 100


def test_the_demo_asks_for_suggestions_and_fills_each_target(api, user, sample_video):
    """The part of `make run`'s demo that asks for captions, against the real functions server."""
    import httpx
    from rich.console import Console

    from shared.local import demo

    with httpx.Client(base_url=api.base_url, headers=api.headers(user), timeout=60) as client:
        stored = client.post("/videos", content=sample_video.path.read_bytes(), params=demo.DEMO_CONTEXT,
                             headers={"Content-Type": "video/mp4", "X-Filename": "spring-sale.mp4"})
        assert stored.status_code == 201, stored.text
        console = Console(record=True, width=200)
        filled = demo._suggestions(client, stored.json()["video_id"], console)
    assert set(filled) == {"blotato", "instagram", "youtube", "facebook"}
    assert "linen" in filled["instagram"]["caption"]
    assert "20% off everything until Sunday" in filled["facebook"]["caption"]
    assert "Maple & Thread" in filled["youtube"]["title"]
    assert all(3 <= len(f["hashtags"]) <= 5 for f in filled.values())
    assert "Suggestions by the built-in writer" in console.export_text()
