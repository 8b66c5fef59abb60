"""The Gemini writer through the real google-genai SDK over HTTP against the sandbox's stand-in.

Every fault falls back to the local writer with source "local" and a note; whatever
Gemini answers is re-checked against the platforms' limits.
"""

from __future__ import annotations

from shared.captions.limits import resolve
from tests.captions.conftest import fault, gemini_requests
from tests.captions.evaluation import limit_problems, tag_problems

ALL = ["tiktok", "instagram", "youtube", "facebook"]


def _ask(api, user, **extra):
    video_id = api.video(user, brand="Bean There", language="en")
    response = api.captions(user, {"video_id": video_id, "platforms": ALL, **extra})
    assert response.status_code == 200, response.text
    return video_id, response.json()


def _all_within_limits(body):
    for item, target in zip(body["suggestions"], resolve(ALL), strict=True):
        assert limit_problems(item, target) == [], item
        assert tag_problems(item) == [], item


def test_gemini_answers_through_the_sdk_with_structured_output(api, user, gemini, db):
    video_id, body = _ask(api, user, brief="20% off all lattes this weekend", tone="playful")
    assert body["source"] == "gemini" and body["notes"] == []
    _all_within_limits(body)
    assert body["suggestions"][0]["caption"].startswith("Wait for it… Our baristas pour latte art")
    assert body["suggestions"][2]["title"]  # YouTube's title
    seen = gemini_requests(gemini)
    assert len(seen) == 1 and seen[0]["model"] == "gemini-2.5-flash" and not seen[0]["vertex"]
    config = seen[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"suggestions"}
    prompt = seen[0]["body"]["contents"][0]["parts"][0]["text"]
    assert '"tone": "playful"' in prompt and "20% off all lattes this weekend" in prompt
    with db.service() as conn:
        row = conn.execute("select engine, prompt_tokens, output_tokens from caption_suggestions "
                           "where video_id = %s", (video_id,)).fetchone()
    assert row["engine"] == "gemini" and row["prompt_tokens"] > 0 and row["output_tokens"] > 0


def test_a_transient_500_is_retried_and_gemini_still_answers(api, user, gemini):
    fault(gemini, "server_error", times=1)
    _video, body = _ask(api, user)
    assert body["source"] == "gemini"
    assert len(gemini_requests(gemini)) == 2


def test_rate_limited_every_time_falls_back_to_local(api, user, gemini):
    fault(gemini, "rate_limited", times=-1)
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert body["notes"] == ["Gemini is busy right now (its rate limit), so these come from our built-in writer."]
    assert len(gemini_requests(gemini)) == 3  # GEMINI_MAX_ATTEMPTS
    _all_within_limits(body)


def test_server_errors_every_time_fall_back_to_local(api, user, gemini):
    fault(gemini, "unavailable", times=-1)
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert body["notes"] == ["Gemini had a problem answering, so these come from our built-in writer."]


def test_a_blocked_prompt_falls_back_to_local(api, user, gemini):
    fault(gemini, "blocked")
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert "declined" in body["notes"][0] and "safety filter" in body["notes"][0]
    _all_within_limits(body)


def test_an_answer_stopped_for_safety_falls_back_to_local(api, user, gemini):
    fault(gemini, "unsafe_answer")
    _video, body = _ask(api, user)
    assert body["source"] == "local" and "safety filter" in body["notes"][0]


def test_malformed_json_falls_back_to_local(api, user, gemini):
    fault(gemini, "malformed")
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert body["notes"] == ["Gemini's answer could not be read, so these come from our built-in writer."]


def test_a_slow_answer_times_out_and_falls_back_to_local(api, user, gemini, monkeypatch, make_app):
    from shared.captions.settings import CaptionSettings
    from shared.config import load

    monkeypatch.setenv("GEMINI_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("GEMINI_MAX_ATTEMPTS", "1")
    make_app.replace(caption_settings=load(CaptionSettings))
    fault(gemini, "slow", times=-1, delay_s=3)
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert body["notes"] == ["Gemini did not answer in time, so these come from our built-in writer."]


def test_a_wrong_key_falls_back_to_local(api, user, gemini, monkeypatch, make_app):
    from shared.captions.settings import CaptionSettings
    from shared.config import load

    monkeypatch.setenv("GEMINI_API_KEY", "not-a-key")
    make_app.replace(caption_settings=load(CaptionSettings))
    _video, body = _ask(api, user)
    assert body["source"] == "local" and "not set up correctly" in body["notes"][0]
    assert len(gemini_requests(gemini)) == 1  # a 400 is not retried


def test_an_answer_missing_a_platform_falls_back_to_local(api, user, gemini):
    answer = {"suggestions": [{"platform": "tiktok", "caption": "Latte art time", "title": "",
                               "hashtags": ["latteart", "coffee", "barista"]}]}
    fault(gemini, "answer", params={"answer": answer})
    _video, body = _ask(api, user)
    assert body["source"] == "local" and "left out a platform" in body["notes"][0]


def test_the_model_is_never_trusted_to_count(api, user, gemini):
    long_title = "Latte art at Bean There downtown coffee shop " * 4          # 180 characters
    emoji_caption = "☕🥐 " * 800                                               # 4,000 chars, 4,800 UTF-16 units
    answer = {"suggestions": [
        {"platform": "tiktok", "caption": emoji_caption, "title": "", "hashtags": ["latteart", "coffee", "fyp"]},
        {"platform": "instagram", "caption": "Latte <art> " * 300, "title": "",
         "hashtags": ["latte art", "#Coffee", "follow4follow", "baristas", "oatmilk", "morning", "downtown"]},
        {"platform": "youtube", "caption": "Latte <art> with oat milk " * 300, "title": long_title,
         "hashtags": ["latteart", "coffee", "barista"]},
        {"platform": "facebook", "caption": "Come by for latte art!", "title": "", "hashtags": ["viral"]},
    ]}
    fault(gemini, "answer", params={"answer": answer})
    _video, body = _ask(api, user)
    assert body["source"] == "gemini"
    _all_within_limits(body)
    tiktok, instagram, youtube, facebook = body["suggestions"]
    assert tiktok["counts"][0]["unit"] == "utf16" and tiktok["counts"][0]["length"] <= 2200
    assert "Left out #fyp: it is a spam or reach-bait tag." in tiktok["notes"]
    assert any("shortened" in n for n in tiktok["notes"])
    assert instagram["hashtags"][:3] == ["latteart", "Coffee", "baristas"] and len(instagram["hashtags"]) == 5
    assert len(instagram["text"]) <= 2200
    assert "<" not in youtube["caption"] and len(youtube["caption"].encode()) <= 5000
    assert len(youtube["title"]) <= 100 and youtube["title"].endswith("…")
    assert "The title was shortened to 100 characters." in youtube["notes"]
    assert len(facebook["hashtags"]) == 3 and "viral" not in facebook["hashtags"]


def test_gemini_through_vertex_ai_paths(api, user, gemini, monkeypatch, make_app):
    """Vertex AI mode: the project/location path and a Bearer token (ADC in production, a token here)."""
    import google.auth

    from shared.captions.settings import CaptionSettings
    from shared.config import load

    token = gemini.sandbox.mint_token("gemini", "shortpub-test", ttl=3600).value

    class SandboxCredentials(google.auth.credentials.Credentials):
        def refresh(self, request):
            self.token = token

        @property
        def expired(self):
            return False

        @property
        def valid(self):
            return True

    creds = SandboxCredentials()
    creds.token = token
    monkeypatch.setattr(google.auth, "default", lambda *a, **k: (creds, "shortpub-test"))
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GEMINI_USE_VERTEX", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "shortpub-test")
    monkeypatch.setenv("GEMINI_VERTEX_LOCATION", "europe-west4")
    make_app.replace(caption_settings=load(CaptionSettings))
    _video, body = _ask(api, user)
    assert body["source"] == "gemini", body["notes"]
    seen = gemini_requests(gemini)[-1]
    assert seen["vertex"] and seen["project"] == "shortpub-test" and seen["location"] == "europe-west4"


def test_gemini_forced_without_a_key_falls_back_to_local(api, user, monkeypatch, make_app):
    from shared.captions.settings import CaptionSettings
    from shared.config import load

    monkeypatch.setenv("CAPTIONS_ENGINE", "gemini")
    make_app.replace(caption_settings=load(CaptionSettings))
    _video, body = _ask(api, user)
    assert body["source"] == "local"
    assert body["notes"] == ["Gemini is not set up correctly on our side, so these come from our built-in writer."]
