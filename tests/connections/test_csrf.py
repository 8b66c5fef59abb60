"""The OAuth state is single use, short-lived, bound to user and platform; PKCE is verified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from functions.oauth import oauth
from shared.connections.errors import ConnectionFlowError, StateError
from shared.connections.flow import complete_authorization, start_authorization
from tests.connections.conftest import call, follow_authorize, redirect_query
from tests.support.parts import access, base_url, vault


def _count(db, user) -> int:
    with db.service() as conn:
        return conn.execute("select count(*) as n from social_connections where user_id = %s",
                            (user["sub"],)).fetchone()["n"]


def test_missing_state_is_refused(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    query = redirect_query(call(oauth, "GET", "/callback/tiktok", query={"code": params["code"]}))
    assert "missing its security check" in query["error"]
    assert _count(db, user_a) == 0


def test_unknown_state_is_refused(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    with pytest.raises(StateError) as refused:
        complete_authorization(db, access(), "tiktok", code=params["code"], state="forged-state", base_url=base_url(),
                               now=datetime.now(UTC))
    assert refused.value.code == "state_unknown"


def test_reused_state_is_refused(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    first = redirect_query(call(oauth, "GET", "/callback/tiktok", query=params))
    assert first["connected"] == "tiktok"
    again = redirect_query(call(oauth, "GET", "/callback/tiktok", query=params))
    assert "already used" in again["error"]


def test_expired_state_is_refused(db, user_a, platforms):
    started = datetime.now(UTC) - timedelta(minutes=11)
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "youtube", base_url=base_url(),
                                                  now=started))
    with pytest.raises(StateError) as refused:
        complete_authorization(db, access(), "youtube", code=params["code"], state=params["state"],
                               base_url=base_url(), now=datetime.now(UTC))
    assert refused.value.code == "state_expired"
    assert _count(db, user_a) == 0


def test_state_of_another_user_is_refused(db, user_a, user_b, platforms):
    # B's frontend completes a flow A started (a login-CSRF attempt).
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    refused = call(oauth, "POST", "/complete", user=user_b, json={"platform": "tiktok", **params})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "state_other_user"
    assert _count(db, user_a) == 0 and _count(db, user_b) == 0


def test_state_for_another_platform_is_refused(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    query = redirect_query(call(oauth, "GET", "/callback/youtube", query=params))
    assert "not meant for YouTube" in query["error"]
    assert _count(db, user_a) == 0


def test_own_state_completes_through_the_frontend_call(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    done = call(oauth, "POST", "/complete", user=user_a, json={"platform": "tiktok", **params})
    assert done.status_code == 200 and len(done.get_json()["connection_ids"]) == 1


def test_pkce_verifier_mismatch_is_refused_by_the_platform(db, user_a, platforms):
    url = start_authorization(db, access(), user_a["sub"], "youtube", base_url=base_url(), now=datetime.now(UTC))
    assert "code_challenge_method=S256" in url
    params = follow_authorize(url)
    # Swap the stored verifier for another one, as if the code were replayed by someone else.
    from shared.connections import store

    other = store.encrypt(vault(), "a-different-verifier-" + "x" * 40, user_id=user_a["sub"], platform="youtube",
                          purpose="pkce")
    with db.service() as conn:
        conn.execute("update oauth_states set code_verifier_ciphertext = %s where user_id = %s", (other, user_a["sub"]))
    with pytest.raises(ConnectionFlowError) as refused:
        complete_authorization(db, access(), "youtube", code=params["code"], state=params["state"],
                               base_url=base_url(), now=datetime.now(UTC))
    assert refused.value.code == "invalid_grant"
    assert "did not accept the sign-in" in refused.value.user_message
    assert _count(db, user_a) == 0


def test_state_is_stored_hashed_with_an_encrypted_verifier(db, user_a, platforms):
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "youtube", base_url=base_url(),
                                                  now=datetime.now(UTC)))
    with db.service() as conn:
        row = conn.execute("select * from oauth_states where user_id = %s", (user_a["sub"],)).fetchone()
    assert params["state"] not in repr(dict(row))
    assert row["code_verifier_ciphertext"] is not None
    assert (row["expires_at"] - row["created_at"]) <= timedelta(minutes=10, seconds=5)


def test_sandbox_refuses_an_unregistered_redirect_uri(db, user_a, platforms):
    url = start_authorization(db, access(), user_a["sub"], "youtube", base_url=base_url(),
                              now=datetime.now(UTC)).replace(
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080", "redirect_uri=https%3A%2F%2Fevil.example")
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 400 and "redirect_uri_mismatch" in response.text
