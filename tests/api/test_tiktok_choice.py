"""TikTok's UX rules at request time: the user chooses who can see the video, from the creator's current
privacy_level_options, with no default; branded content is never private; the user's consent to TikTok's
Music Usage Confirmation (and Branded Content Policy) is recorded with the post.
https://developers.tiktok.com/doc/content-sharing-guidelines/
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from tests.api.conftest import connect_account, error_of
from tests.support.cloud_stack import StackClient


def _later() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0).isoformat()


def _tiktok_account(sandbox, *, private: bool) -> str:
    open_id = "open-" + secrets.token_hex(6)
    sandbox.sandbox.add_account("tiktok", open_id, username="maker" + open_id[-4:], private=private)
    return open_id


def _publish(client: StackClient, video_id: str, options: dict, platform: str = "tiktok"):
    return client.api.post("/publish-video", json={"video_id": video_id, "publish_at": _later(),
                                                   "targets": [{"platform": platform, "options": options}]})


def test_no_privacy_chosen_is_a_422_listing_the_creators_options(client: StackClient, sandbox, video_id) -> None:
    connect_account(client, "tiktok", _tiktok_account(sandbox, private=True))
    answer = _publish(client, video_id, {"consent": True})
    assert answer.status_code == 422, answer.text
    message = error_of(answer)["message"]
    assert "Choose who can see this TikTok video (privacy_level): FOLLOWER_OF_CREATOR (followers), " \
           "MUTUAL_FOLLOW_FRIENDS (friends), SELF_ONLY (only you)." in message
    assert "PUBLIC_TO_EVERYONE" not in message


def test_a_level_the_creator_is_not_offered_now_is_refused_at_request_time(client: StackClient, sandbox,
                                                                           video_id, monkeypatch) -> None:
    open_id = _tiktok_account(sandbox, private=False)
    connect_account(client, "tiktok", open_id)
    assert _publish(client, video_id, {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}).status_code == 202
    # The creator makes the account private in TikTok; the next request is checked against the live options.
    from shared.platforms.tiktok import creator

    sandbox.sandbox.account("tiktok", open_id)["private"] = True
    monkeypatch.setattr(creator, "CACHE_SECONDS", 0)  # a minute later: neither the cache nor the connect-time copy
    for connection in client.connections():
        creator.forget(connection["id"])
    answer = _publish(client, video_id, {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True})
    assert answer.status_code == 422, answer.text
    assert "This TikTok account can't post with privacy PUBLIC_TO_EVERYONE. Choose one of: FOLLOWER_OF_CREATOR" \
        in answer.json()["message"]


def test_branded_content_cannot_be_private_and_consent_is_required(client: StackClient, sandbox, video_id) -> None:
    connect_account(client, "tiktok", _tiktok_account(sandbox, private=False))
    answer = _publish(client, video_id, {"privacy_level": "SELF_ONLY", "brand_content_toggle": True, "consent": True})
    assert answer.status_code == 422
    assert "branded content can't be private on TikTok" in answer.json()["message"]
    answer = _publish(client, video_id, {"privacy_level": "PUBLIC_TO_EVERYONE"})
    assert answer.status_code == 422
    assert "TikTok asks you to agree to its Music Usage Confirmation" in answer.json()["message"]


def test_consent_is_recorded_with_the_post(client: StackClient, sandbox, video_id, db) -> None:
    connect_account(client, "tiktok", _tiktok_account(sandbox, private=False))
    answer = _publish(client, video_id, {"privacy_level": "FOLLOWER_OF_CREATOR", "brand_content_toggle": True,
                                         "consent": True})
    assert answer.status_code == 422  # a public account is not offered FOLLOWER_OF_CREATOR
    answer = _publish(client, video_id, {"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "brand_content_toggle": True,
                                         "consent": True})
    assert answer.status_code == 202, answer.text
    target_id = answer.json()["targets"][0]["target_id"]
    with db.service() as conn:
        row = conn.execute("select consent, options from publish_targets where id = %s", (target_id,)).fetchone()
    assert row["consent"]["policies"] == ["music_usage_confirmation", "branded_content_policy"]
    assert row["consent"]["declaration"] == ("By posting, you agree to TikTok's Branded Content Policy and Music "
                                             "Usage Confirmation.")
    assert row["consent"]["agreed_at"]
    assert row["options"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"


def test_blotato_needs_the_choice_too(client: StackClient, sandbox, video_id, user) -> None:
    sb = sandbox.sandbox
    owner = "owner-" + secrets.token_hex(4)
    sb.add_account("blotato", "acct-" + owner, owner=owner, network="tiktok", username="brand")
    key = sb.mint_token("blotato", owner, ttl=3600).value
    assert client.api.post("/connections/blotato", json={"api_key": key}).status_code == 201
    answer = _publish(client, video_id, {"consent": True}, platform="blotato")
    assert answer.status_code == 422, answer.text
    assert "Choose who can see this TikTok video (privacy_level)" in answer.json()["message"]
    answer = _publish(client, video_id, {"privacy_level": "SELF_ONLY", "consent": True}, platform="blotato")
    assert answer.status_code == 202, answer.text


def test_the_catalog_shows_every_platform_and_the_creators_live_options(client: StackClient, sandbox,
                                                                        video_id) -> None:
    open_id = _tiktok_account(sandbox, private=True)
    connect_account(client, "tiktok", open_id)
    answer = client.api.get("/platforms")
    assert answer.status_code == 200, answer.text
    catalog = {p["key"]: p for p in answer.json()["platforms"]}
    assert set(catalog) == {"tiktok", "instagram", "youtube", "facebook", "blotato"}
    tiktok = catalog["tiktok"]
    assert tiktok["text"]["caption"]["unit"] == "utf16"
    assert tiktok["options"]["properties"]["privacy_level"]["anyOf"][0]["enum"] == [
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    assert tiktok["options"]["x-required-to-post"] == ["privacy_level", "consent"]
    [account] = tiktok["connections"]
    assert account["creator_info"]["privacy_level_options"] == ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS",
                                                                "SELF_ONLY"]
    assert account["creator_info"]["live"] is True
    assert account["creator_info"]["consent_text"]["default"] == \
        "By posting, you agree to TikTok's Music Usage Confirmation."
    assert {b["name"] for b in account["budgets"]} >= {"tiktok_daily_posts"}
    assert catalog["youtube"]["options"]["properties"]["privacy_status"]["default"] == "public"
    assert catalog["youtube"]["text"]["caption"]["unit"] == "bytes"
    assert catalog["blotato"]["connects"]["method"] == "api_key"
    assert catalog["facebook"]["media"]["min_aspect"] == 0.5625
