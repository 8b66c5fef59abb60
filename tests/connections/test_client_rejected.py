"""Our own misconfiguration never expires users' accounts; revocation never puts a token in a URL.

The sandbox's token endpoints refuse our app the way each platform does
(`sandbox.oauth.CLIENT_REFUSALS`); only dead-grant answers may expire a connection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.connections import connections
from sandbox.core import Fault, TokenProblem
from shared.connections.refresh import credentials_for, refresh_due
from shared.platforms.oauth import OAuthClientRejected
from tests.conftest import make_user
from tests.connections.conftest import call, connect, connection_row
from tests.support.parts import access
from tests.test_logging import _lines

# When each platform's token is due for refresh in the scheduler's pass.
DUE_AT = {"tiktok": timedelta(minutes=95), "youtube": timedelta(minutes=50), "instagram": timedelta(days=7)}
SETTINGS = {"tiktok": ["TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"],
            "youtube": ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"],
            "instagram": ["INSTAGRAM_APP_ID", "INSTAGRAM_APP_SECRET"]}


def _mails(db, *users) -> list[dict]:
    with db.service() as conn:
        return conn.execute("select * from notifications where user_id = any(%s::uuid[])",
                            ([u["sub"] for u in users],)).fetchall()


@pytest.mark.parametrize(("platform", "kind"), [
    ("tiktok", "invalid_client"), ("tiktok", "unauthorized_client"), ("tiktok", "client_401"),
    ("youtube", "invalid_client"), ("youtube", "unauthorized_client"), ("youtube", "deleted_client"),
    ("youtube", "client_401"),
    ("instagram", "unauthorized_client"), ("instagram", "client_401"),
])
def test_refresh_refused_for_our_client_keeps_every_connection_and_mails_no_one(db, platforms, captured, platform,
                                                                                kind):
    if platform == "instagram":
        platforms.sandbox.config["instagram.refresh_min_age_s"] = 0
    users = [make_user(db), make_user(db)]
    ids = [connect(db, user, platform) for user in users]
    before = {cid: connection_row(db, cid) for cid in ids}
    platforms.sandbox.add_fault(Fault(platform=platform, operation="refresh", kind=kind, times=-1))
    later = datetime.now(UTC) + DUE_AT[platform]

    summary = refresh_due(db, access(), later)

    # (The session's database holds other tests' connections too: assert on these users' own.)
    assert not set(ids) & set(summary.expired) and set(ids) <= set(summary.failed)
    assert summary.client_rejected == [platform]
    for cid in ids:
        row = connection_row(db, cid)
        assert (row["status"], row["status_reason"]) == ("connected", None)
        assert row["refresh_token_ciphertext"] == before[cid]["refresh_token_ciphertext"]
    assert _mails(db, *users) == []
    # The pass stopped asking after the first refusal: one refused call, not one per user.
    assert sum(1 for call_ in platforms.sandbox.calls_faulted if call_[:2] == (platform, "refresh")) == 1
    [alert] = [line for line in _lines(captured) if line["message"] == "oauth_client_rejected"]
    assert alert["severity"] == "ERROR" and alert["platform"] == platform
    assert alert["settings"] == SETTINGS[platform]

    # The operator fixes the setting: the next pass refreshes everyone, still without a mail.
    platforms.sandbox.faults.clear()
    assert set(ids) <= set(refresh_due(db, access(), later).refreshed)
    assert _mails(db, *users) == []


def test_a_rotated_secret_is_reported_not_blamed_on_users(db, user_a, platforms, captured):
    """The secret changed at TikTok but not here: the real refusal path, no injected fault."""
    cid = connect(db, user_a, "tiktok")
    platforms.sandbox.config["tiktok.client_secret"] = "rotated-at-tiktok"
    later = datetime.now(UTC) + DUE_AT["tiktok"]
    assert refresh_due(db, access(), later).client_rejected == ["tiktok"]
    assert connection_row(db, cid)["status"] == "connected"
    assert _mails(db, user_a) == []
    assert any(line["message"] == "oauth_client_rejected" and "TIKTOK_CLIENT_SECRET" in line["settings"]
               for line in _lines(captured))

    # Publishing with a token about to expire: a retryable error, the connection untouched.
    with pytest.raises(OAuthClientRejected):
        credentials_for(db, access(), cid, now=datetime.now(UTC) + timedelta(hours=3))
    assert connection_row(db, cid)["status"] == "connected"
    assert _mails(db, user_a) == []


@pytest.mark.parametrize("platform", ["tiktok", "youtube", "instagram"])
def test_a_dead_grant_still_expires_the_connection(db, user_a, platforms, platform):
    if platform == "instagram":
        platforms.sandbox.config["instagram.refresh_min_age_s"] = 0
    cid = connect(db, user_a, platform)
    platforms.sandbox.revoke_account_tokens(platform, connection_row(db, cid)["platform_account_id"])
    summary = refresh_due(db, access(), datetime.now(UTC) + DUE_AT[platform])
    assert cid in summary.expired and summary.client_rejected == []
    assert connection_row(db, cid)["status"] == "expired"
    assert [m["kind"] for m in _mails(db, user_a)] == ["connection_expired"]


@pytest.mark.parametrize("platform", ["tiktok", "youtube", "facebook"])
def test_revoke_sends_no_token_in_a_url(db, user_a, platforms, platform):
    cid = connect(db, user_a, platform)
    token = credentials_for(db, access(), cid, now=datetime.now(UTC)).access_token
    gone = call(connections, "DELETE", f"/{cid}", user=user_a)
    assert gone.status_code == 200 and gone.get_json()["status"] == "disconnected"
    assert platforms.sandbox.store("oauth")["tokens_in_url"] == []
    # The grant really is revoked at the platform (Facebook: the Page token goes with the user's grant).
    with pytest.raises(TokenProblem):
        platforms.sandbox.check_token(platform, token)
