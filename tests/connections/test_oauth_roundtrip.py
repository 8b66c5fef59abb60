"""Full OAuth round trips against the sandbox over HTTP: start -> authorize -> callback -> stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.connections import connections
from tests.connections.conftest import call, connect_via_functions, redirect_query
from tests.support.parts import access


def _rows(db, user):
    with db.service() as conn:
        return conn.execute("select * from social_connections where user_id = %s order by created_at",
                            (user["sub"],)).fetchall()


def _assert_only_ciphertexts(row, sandbox, platform):
    """No token the sandbox issued for this account appears anywhere in the stored row."""
    with sandbox.sandbox.lock:
        issued = [t.value for t in sandbox.sandbox.tokens.values() if t.platform == platform]
    assert issued
    raw = repr(dict(row)).encode() + b"".join(bytes(v) for v in dict(row).values() if isinstance(v, bytes | memoryview))
    for value in issued:
        assert value.encode() not in raw
    assert row["access_token_ciphertext"] is not None


@pytest.mark.parametrize(
    ("platform", "account", "expect"),
    [
        ("tiktok", {"username": "maker.one", "display_name": "Maker One", "follower_count": 77,
                    "avatar_url": "https://a.example/1.jpg", "union_id": "u-1"},
         {"username": "maker.one", "display_name": "Maker One", "account_type": "creator"}),
        ("instagram", {"username": "shop.ig", "name": "Shop", "account_type": "MEDIA_CREATOR",
                       "followers_count": 512}, {"username": "shop.ig", "account_type": "MEDIA_CREATOR",
                                                 "follower_count": 512}),
        ("youtube", {"title": "My Channel", "custom_url": "@mine", "has_channel": True, "subscriber_count": 42},
         {"display_name": "My Channel", "username": "@mine", "follower_count": 42, "account_type": "channel"}),
        ("facebook", {"name": "Page Owner", "kind": "user",
                      "pages": [{"id": "5550001", "name": "Bakery", "followers_count": 900}]},
         {"display_name": "Bakery", "account_type": "page", "follower_count": 900}),
    ],
)
def test_round_trip_stores_an_encrypted_connection(db, user_a, platforms, platform, account, expect):
    account_id = {"tiktok": "act.roundtrip", "instagram": "17840001", "youtube": "UCroundtrip",
                  "facebook": "fbuser-1"}[platform]
    platforms.sandbox.add_account(platform, account_id, **account)

    query = redirect_query(connect_via_functions(user_a, platform, sandbox_account=account_id))

    assert query == {"connected": platform, "accounts": "1"}
    [row] = _rows(db, user_a)
    assert row["status"] == "connected" and row["platform"] == platform
    for key, value in expect.items():
        assert row[key] == value, key
    expected_id = "5550001" if platform == "facebook" else account_id
    assert row["platform_account_id"] == expected_id
    _assert_only_ciphertexts(row, platforms, platform)

    listed = call(connections, "GET", "/", user=user_a).get_json()["connections"]
    assert [c["platform_account_id"] for c in listed] == [expected_id]
    assert listed[0]["reconnect_url"].endswith(f"/oauth/start/{platform}")
    assert "access_token_ciphertext" not in listed[0]


def test_tiktok_stores_creator_info_and_token_lifetimes(db, user_a, platforms):
    platforms.sandbox.add_account("tiktok", "act.creator", username="c", display_name="C",
                                  max_video_post_duration_sec=300)
    redirect_query(connect_via_functions(user_a, "tiktok"))
    [row] = _rows(db, user_a)
    info = row["account_info"]["creator_info"]
    assert info["max_video_post_duration_sec"] == 300
    assert "SELF_ONLY" in info["privacy_level_options"]
    # 2 h access / 180 d refresh, from the platform's own expires_in / refresh_expires_in.
    life = row["access_token_expires_at"] - row["last_refreshed_at"]
    assert 7190 <= life.total_seconds() <= 7200
    assert (row["refresh_token_expires_at"] - row["last_refreshed_at"]).days in (179, 180)
    assert set(row["scopes"]) >= {"video.publish", "user.info.basic"}


def test_instagram_gets_a_long_lived_token(db, user_a, platforms):
    platforms.sandbox.add_account("instagram", "17840002", username="biz", account_type="BUSINESS")
    redirect_query(connect_via_functions(user_a, "instagram"))
    [row] = _rows(db, user_a)
    # The 1-hour code token was swapped for the 60-day one, which is also the reconnect-by time.
    assert (row["access_token_expires_at"] - row["last_refreshed_at"]).days in (59, 60)
    assert row["refresh_token_expires_at"] == row["access_token_expires_at"]


def test_facebook_connects_each_page_as_its_own_connection(db, user_a, platforms):
    platforms.sandbox.add_account("facebook", "fbuser-2", name="Owner", pages=[
        {"id": "6660001", "name": "Shop A", "instagram_business_account": "1784999"},
        {"id": "6660002", "name": "Shop B"}])
    assert redirect_query(connect_via_functions(user_a, "facebook"))["accounts"] == "2"
    rows = _rows(db, user_a)
    assert sorted(r["platform_account_id"] for r in rows) == ["6660001", "6660002"]
    by_id = {r["platform_account_id"]: r for r in rows}
    assert by_id["6660001"]["account_info"]["instagram_business_account_id"] == "1784999"
    # Page tokens never expire; the user token's 60 days is what the reminder tracks.
    assert all(r["access_token_expires_at"] is None for r in rows)
    assert all((r["refresh_token_expires_at"] - r["last_refreshed_at"]).days in (59, 60) for r in rows)


def test_several_accounts_per_platform_per_user(db, user_a, platforms):
    platforms.sandbox.add_account("tiktok", "act.first", username="first")
    platforms.sandbox.add_account("tiktok", "act.second", username="second")
    redirect_query(connect_via_functions(user_a, "tiktok", sandbox_account="act.first"))
    redirect_query(connect_via_functions(user_a, "tiktok", sandbox_account="act.second"))
    redirect_query(connect_via_functions(user_a, "tiktok", sandbox_account="act.first"))
    assert sorted(r["username"] for r in _rows(db, user_a)) == ["first", "second"]


def test_instagram_personal_account_is_refused_with_how_to_switch(db, user_a, platforms):
    platforms.sandbox.add_account("instagram", "17840003", username="me.personal", account_type="PERSONAL")
    query = redirect_query(connect_via_functions(user_a, "instagram"))
    assert "Business or Creator account" in query["error"]
    assert "Switch to professional account" in query["error"]
    assert _rows(db, user_a) == []


def test_google_account_without_channel_is_refused_plainly(db, user_a, platforms):
    platforms.sandbox.add_account("youtube", "google-user-no-channel", has_channel=False)
    query = redirect_query(connect_via_functions(user_a, "youtube"))
    assert "no YouTube channel" in query["error"]
    assert _rows(db, user_a) == []


def test_facebook_user_without_pages_is_refused_plainly(db, user_a, platforms):
    platforms.sandbox.add_account("facebook", "fbuser-nopage", name="No Page", pages=[])
    query = redirect_query(connect_via_functions(user_a, "facebook"))
    assert "does not manage any Page" in query["error"]
    assert _rows(db, user_a) == []


def test_user_who_cancels_gets_a_plain_message(db, user_a, platforms):
    query = redirect_query(connect_via_functions(user_a, "youtube", sandbox_deny="1"))
    assert query["error"].startswith("You cancelled connecting YouTube")
    assert _rows(db, user_a) == []


def test_blotato_connects_with_the_users_key_and_chosen_account(db, user_a, platforms):
    sb = platforms.sandbox
    key = sb.mint_token("blotato", "blotato-owner-1").value
    sb.add_account("blotato", "acc-1", owner="blotato-owner-1", network="tiktok", username="one", fullname="One")
    sb.add_account("blotato", "acc-2", owner="blotato-owner-1", network="tiktok", username="two", fullname="Two")

    listed = call(connections, "POST", "/blotato/accounts", user=user_a, json={"api_key": key})
    assert sorted(a["id"] for a in listed.get_json()["accounts"]) == ["acc-1", "acc-2"]
    choose = call(connections, "POST", "/blotato", user=user_a, json={"api_key": key})
    assert choose.status_code == 409 and choose.get_json()["code"] == "choose_account"
    made = call(connections, "POST", "/blotato", user=user_a, json={"api_key": key, "account_id": "acc-2"})
    assert made.status_code == 201, made.get_json()

    [row] = _rows(db, user_a)
    assert (row["platform_account_id"], row["username"]) == ("acc-2", "two")
    assert key.encode() not in bytes(row["access_token_ciphertext"])
    from shared.connections.refresh import credentials_for

    creds = credentials_for(db, access(), str(row["id"]), now=datetime.now(UTC))
    assert (creds.access_token, creds.account_id) == (key, "acc-2")


def test_blotato_bad_key_is_refused_plainly(db, user_a, platforms):
    refused = call(connections, "POST", "/blotato", user=user_a, json={"api_key": "not-a-key"})
    assert refused.status_code == 400  # the user's key: their input, not Blotato being down
    assert "did not accept this API key" in refused.get_json()["message"]
    assert _rows(db, user_a) == []
