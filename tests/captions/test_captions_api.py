"""POST /captions with the local writer, over HTTP against the functions server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.captions import hashtags
from shared.captions.limits import resolve
from tests.captions.evaluation import limit_problems, tag_problems
from tests.conftest import make_user

ALL = ["tiktok", "instagram", "youtube", "facebook"]


def test_suggests_per_platform_with_counts_from_the_local_writer(api, user):
    video_id = api.video(user, brand="Bean There", language="en")
    response = api.captions(user, {"video_id": video_id, "platforms": ALL, "brief": "20% off all lattes this weekend"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "local" and body["notes"] == []
    assert body["language"] == "en" and body["used_today"] == 1
    assert [s["platform"] for s in body["suggestions"]] == ALL
    for item, target in zip(body["suggestions"], resolve(ALL), strict=True):
        assert limit_problems(item, target) == [] and tag_problems(item) == []
        caption_count = item["counts"][0]
        assert caption_count["field"] == "caption" and caption_count["fits"]
        assert caption_count["unit"] == {"tiktok": "utf16", "youtube": "bytes"}.get(item["platform"], "chars")
        assert caption_count["max_length"] == target.caption_rule.max_length
    youtube = body["suggestions"][2]
    assert youtube["title"] and youtube["counts"][1] == {"field": "title", "length": len(youtube["title"]),
                                                         "max_length": 100, "unit": "chars", "fits": True}
    assert "beanthere" in body["suggestions"][0]["hashtags"]


def test_nothing_is_stored_as_a_caption(api, user, db):
    video_id = api.video(user)
    assert api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]}).status_code == 200
    with db.service() as conn:
        posts = conn.execute("select count(*) as n from posts where video_id = %s", (video_id,)).fetchone()
        usage = conn.execute("select engine, platforms from caption_suggestions where video_id = %s",
                             (video_id,)).fetchall()
    assert posts["n"] == 0
    assert [(u["engine"], u["platforms"]) for u in usage] == [("local", ["tiktok"])]


def test_another_users_video_is_not_found(api, user, db):
    other = make_user(db)
    video_id = api.video(other)
    response = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]})
    assert response.status_code == 404
    assert response.json()["message"] == "We couldn't find that video."


def test_bad_requests_get_plain_422s(api, user):
    video_id = api.video(user)
    unknown = api.captions(user, {"video_id": video_id, "platforms": ["snapchat"]})
    assert unknown.status_code == 422
    assert unknown.json()["message"].startswith("We can't write captions for 'snapchat'. Choose from: ")
    twice = api.captions(user, {"video_id": video_id, "platforms": ["tiktok", "TikTok"]})
    assert twice.status_code == 422 and "listed twice" in twice.json()["message"]
    extra = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"], "mood": "happy"})
    assert extra.status_code == 422 and extra.json()["detail"][0]["field"] == "mood"
    tone = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"], "tone": "angry"})
    assert tone.status_code == 422 and tone.json()["detail"][0]["field"] == "tone"
    unsigned = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]})
    assert unsigned.status_code == 200
    import httpx

    anonymous = httpx.post(f"{api.base_url}/captions", json={"video_id": video_id, "platforms": ["tiktok"]})
    assert anonymous.status_code == 401


def test_a_video_with_nothing_to_go_on_asks_for_more(api, user, db):
    video_id = api.video(user, description=None, filename="original.mp4")
    response = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]})
    assert response.status_code == 422
    assert response.json()["code"] == "tell_us_more"
    assert "a sentence or two" in response.json()["message"]
    with db.service() as conn:  # not counted against the daily cap
        used = conn.execute("select count(*) as n from caption_suggestions where user_id = %s", (user["sub"],))
        assert used.fetchone()["n"] == 0
    # a brief is enough
    briefed = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"],
                                  "brief": "Spring sale: linen shirts and summer dresses 30% off until Sunday"})
    assert briefed.status_code == 200, briefed.text
    assert "linen" in briefed.json()["suggestions"][0]["caption"]


def test_the_filename_is_used_when_nothing_else_is_given(api, user):
    video_id = api.video(user, description=None, filename="spring-sale-linen-dresses.mp4")
    response = api.captions(user, {"video_id": video_id, "platforms": ["instagram"]})
    assert response.status_code == 200, response.text
    tags = response.json()["suggestions"][0]["hashtags"]
    assert len(tags) >= 3 and set(tags) <= {"spring", "sale", "linen", "dresses"}


def test_language_and_tone_are_followed(api, user):
    video_id = api.video(user, description="Unser neues Fitnessstudio in Berlin bietet Krafttraining und "
                         "Yoga-Kurse für Anfänger.")
    guessed = api.captions(user, {"video_id": video_id, "platforms": ["facebook"], "tone": "professional"}).json()
    assert guessed["language"] == "de" and guessed["tone"] == "professional"
    assert guessed["suggestions"][0]["caption"].endswith(("Fragen? Schreibt uns gern.",
                                                          "Sagt uns eure Meinung in den Kommentaren."))


def test_the_daily_cap_answers_429_in_plain_words(api, user, monkeypatch, make_app):
    from shared.captions.settings import CaptionSettings
    from shared.config import load

    monkeypatch.setenv("CAPTIONS_DAILY_LIMIT", "2")
    make_app.replace(caption_settings=load(CaptionSettings))
    video_id = api.video(user)
    for _ in range(2):
        assert api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]}).status_code == 200
    third = api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]})
    assert third.status_code == 429
    body = third.json()
    assert body["code"] == "daily_limit_reached"
    assert body["message"].startswith("You have asked for 2 caption suggestions today, the most we allow per day.")
    assert body["detail"]["limit"] == 2
    # another user still has their own allowance
    assert api.captions(make_user(api.db), {"video_id": api.video(make_user(api.db)),
                                            "platforms": ["tiktok"]}).status_code in (200, 404)


def test_yesterdays_requests_do_not_count(api, user, db, monkeypatch, make_app):
    from shared.captions.settings import CaptionSettings
    from shared.config import load

    monkeypatch.setenv("CAPTIONS_DAILY_LIMIT", "1")
    make_app.replace(caption_settings=load(CaptionSettings))
    video_id = api.video(user)
    with db.service() as conn:
        conn.execute("insert into caption_suggestions (user_id, video_id, created_at) values (%s, %s, %s)",
                     (user["sub"], video_id, datetime.now(UTC) - timedelta(days=1, minutes=1)))
    assert api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]}).status_code == 200
    assert api.captions(user, {"video_id": video_id, "platforms": ["tiktok"]}).status_code == 429


def _published(db, user, video_id, platform, tags, views, likes):
    """A published post of the user's with a metrics snapshot."""
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id) values (%s, %s, %s) "
            "on conflict (user_id, platform, platform_account_id) do update set status = 'connected' returning id",
            (user["sub"], platform, f"acct-{user['sub'][:8]}")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption, hashtags) values (%s, %s, 'x', %s) "
                            "returning id", (user["sub"], video_id, tags)).fetchone()["id"]
        target = conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, state, published_at, "
            "platform_post_id) values (%s, %s, %s, %s, 'published', now(), %s) returning id",
            (user["sub"], post, connection, platform, uuid.uuid4().hex)).fetchone()["id"]
        conn.execute("insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views, likes, "
                     "comments, shares) values (%s, %s, %s, 'p', %s, %s, 0, 0)",
                     (user["sub"], target, platform, views, likes))


def test_hashtags_that_did_well_on_a_platform_are_preferred(api, user, db):
    old_video = api.video(user)
    # Instagram: #latteart came with the best engagement; #mondaymood with the worst.
    _published(db, user, old_video, "instagram", ["latteart", "coffee"], views=1000, likes=120)
    _published(db, user, old_video, "instagram", ["oatmilk"], views=1000, likes=60)
    _published(db, user, old_video, "instagram", ["mondaymood"], views=1000, likes=10)
    video_id = api.video(user, description="Latte art with oat milk, poured by our baristas this morning.")
    body = api.captions(user, {"video_id": video_id, "platforms": ["instagram", "tiktok"]}).json()
    instagram, tiktok = body["suggestions"]
    assert instagram["hashtags"][0] == "latteart"
    assert "#latteart did well for you on Instagram Reels." in instagram["notes"]
    assert "mondaymood" not in instagram["hashtags"]          # below the median, and not about this video
    assert not any("did well" in n for n in tiktok["notes"])  # TikTok has no numbers of this user's
    assert tag_problems(instagram) == []


def test_a_good_tag_that_is_off_topic_is_not_pushed(api, user, db):
    old_video = api.video(user)
    for likes, tags in ((200, ["kettlebell"]), (50, ["gym"]), (10, ["sweat"])):
        _published(db, user, old_video, "instagram", tags, views=1000, likes=likes)
    video_id = api.video(user)  # the coffee video
    instagram = api.captions(user, {"video_id": video_id, "platforms": ["instagram"]}).json()["suggestions"][0]
    assert "kettlebell" not in instagram["hashtags"]
    assert not any("did well" in n for n in instagram["notes"])
    assert all(hashtags.valid(t) for t in instagram["hashtags"])


def test_an_ab_winner_shapes_that_platforms_suggestions_until_switched_off(api, user, db):
    from psycopg.types.json import Jsonb

    video_id = api.video(user)
    with db.service() as conn:
        conn.execute("insert into publishing_defaults (user_id, platform, traits) values (%s, 'instagram', %s)",
                     (user["sub"], Jsonb({"from_variant": "B", "caption_length": 42, "hashtag_count": 3})))
    body = {"video_id": video_id, "platforms": ["instagram", "tiktok"], "tone": "playful"}
    answer = api.captions(user, body)
    assert answer.status_code == 200, answer.text
    by_platform = {s["platform"]: s for s in answer.json()["suggestions"]}
    shaped = by_platform["instagram"]
    assert len(shaped["caption"]) <= 80 and len(shaped["hashtags"]) == 3
    assert any("winner of your A/B test on Instagram" in note for note in shaped["notes"])
    assert not any("A/B test" in note for note in by_platform["tiktok"]["notes"])   # no winner there

    with db.service() as conn:
        conn.execute("update publishing_defaults set enabled = false where user_id = %s", (user["sub"],))
    again = {s["platform"]: s for s in api.captions(user, body).json()["suggestions"]}
    assert not any("A/B test" in note for note in again["instagram"]["notes"])
