"""Token refresh: before expiry, TikTok rotation, revoked -> expired once, blips never expire, one refresh."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.core import Fault, TokenProblem
from shared.connections import store
from shared.connections.refresh import credentials_for, refresh_due
from shared.platforms.errors import AuthError, TransientError
from tests.connections.conftest import connect, connection_row
from tests.support.parts import access, vault


def _refresh_token(row) -> str:
    return store.decrypt(vault(), row["refresh_token_ciphertext"], user_id=str(row["user_id"]),
                         platform=row["platform"], purpose="refresh_token")


def _only_due(db, connection_id: str) -> None:
    """A refresh pass takes every due connection in the database: the ones other tests left behind
    are set aside, so a single injected fault meets this test's own connection."""
    with db.service() as conn:
        conn.execute("update social_connections set status = 'disconnected' where id <> %s and status = 'connected'",
                     (connection_id,))


def _mails(db, user) -> list[dict]:
    with db.service() as conn:
        return conn.execute("select * from notifications where user_id = %s", (user["sub"],)).fetchall()


def _refresh_calls(sandbox, platform, account_id) -> int:
    return sandbox.sandbox.store("oauth").get("refresh_calls", {}).get(f"{platform}:{account_id}", 0)


def test_tiktok_refreshes_before_expiry_and_rotates_the_refresh_token(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    before = connection_row(db, cid)
    old_refresh = _refresh_token(before)

    assert cid not in refresh_due(db, access(), datetime.now(UTC)).refreshed  # fresh: not due yet
    later = datetime.now(UTC) + timedelta(minutes=95)  # 2 h token, 75 % of its life gone
    summary = refresh_due(db, access(), later)

    assert cid in summary.refreshed
    after = connection_row(db, cid)
    new_refresh = _refresh_token(after)
    assert new_refresh != old_refresh
    assert after["access_token_expires_at"] > before["access_token_expires_at"]
    with pytest.raises(TokenProblem):  # rotation: the old refresh token is dead at TikTok
        platforms.sandbox.check_token("tiktok", old_refresh, kind="refresh")
    assert platforms.sandbox.check_token("tiktok", new_refresh, kind="refresh").account_id
    assert cid not in refresh_due(db, access(), later).refreshed  # done: not due again


def test_revoked_refresh_token_expires_the_connection_with_one_mail(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    row = connection_row(db, cid)
    platforms.sandbox.revoke_account_tokens("tiktok", row["platform_account_id"])
    later = datetime.now(UTC) + timedelta(minutes=95)

    assert cid in refresh_due(db, access(), later).expired
    assert cid not in refresh_due(db, access(), later).expired
    with pytest.raises(AuthError):
        credentials_for(db, access(), cid, now=datetime.now(UTC))

    row = connection_row(db, cid)
    assert (row["status"], row["status_reason"]) == ("expired", "invalid_grant")
    assert _refresh_token(row) is not None  # kept: never overwritten with nothing
    [mail] = _mails(db, user_a)
    assert mail["kind"] == "connection_expired" and mail["to_email"] == user_a["email"]
    assert "Reconnect" in mail["body"]


@pytest.mark.parametrize("kind", ["server_error", "reset", "status"])
def test_network_or_5xx_during_refresh_keeps_the_connection(db, user_a, platforms, kind):
    cid = connect(db, user_a, "tiktok")
    _only_due(db, cid)
    old_refresh = _refresh_token(connection_row(db, cid))
    platforms.sandbox.add_fault(Fault(platform="tiktok", operation="refresh", kind=kind, status=503,
                                      body={"error": "temporarily_unavailable"}))
    later = datetime.now(UTC) + timedelta(minutes=95)

    assert cid in refresh_due(db, access(), later).failed
    row = connection_row(db, cid)
    assert row["status"] == "connected" and _refresh_token(row) == old_refresh
    assert _mails(db, user_a) == []
    assert cid in refresh_due(db, access(), later).refreshed  # the next tick succeeds


def test_concurrent_refresh_passes_refresh_once(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    later = datetime.now(UTC) + timedelta(minutes=95)
    barrier = threading.Barrier(4)
    results = []

    def tick() -> None:
        barrier.wait()
        results.append(refresh_due(db, access(), later))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.refreshed.count(cid) for r in results) == 1
    assert sum((r.expired + r.failed).count(cid) for r in results) == 0
    assert _refresh_calls(platforms, "tiktok", connection_row(db, cid)["platform_account_id"]) == 1
    assert connection_row(db, cid)["status"] == "connected"
    platforms.sandbox.check_token("tiktok", _refresh_token(connection_row(db, cid)), kind="refresh")


def test_google_refresh_keeps_the_stored_refresh_token(db, user_a, platforms):
    cid = connect(db, user_a, "youtube")
    refresh = _refresh_token(connection_row(db, cid))
    assert cid in refresh_due(db, access(), datetime.now(UTC) + timedelta(minutes=50)).refreshed
    row = connection_row(db, cid)
    assert _refresh_token(row) == refresh and row["status"] == "connected"


def test_google_invalid_grant_expires_the_connection(db, user_a, platforms):
    cid = connect(db, user_a, "youtube")
    platforms.sandbox.revoke_account_tokens("youtube", connection_row(db, cid)["platform_account_id"])
    assert cid in refresh_due(db, access(), datetime.now(UTC) + timedelta(minutes=50)).expired
    assert len(_mails(db, user_a)) == 1


def test_instagram_refreshes_its_long_lived_token_once_a_day_old(db, user_a, platforms):
    platforms.sandbox.config["instagram.refresh_min_age_s"] = 0
    cid = connect(db, user_a, "instagram")
    assert cid not in refresh_due(db, access(), datetime.now(UTC) + timedelta(hours=23)).refreshed   # < 24 h
    assert cid in refresh_due(db, access(), datetime.now(UTC) + timedelta(days=7)).refreshed
    row = connection_row(db, cid)
    assert row["refresh_token_expires_at"] == row["access_token_expires_at"]


def test_facebook_page_tokens_are_never_refreshed(db, user_a, platforms):
    cid = connect(db, user_a, "facebook")
    assert cid not in refresh_due(db, access(), datetime.now(UTC) + timedelta(days=30)).refreshed
    assert connection_row(db, cid)["status"] == "connected"


def test_credentials_for_refreshes_an_expiring_token_on_demand(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    first = credentials_for(db, access(), cid, now=datetime.now(UTC))
    assert first.account_id == connection_row(db, cid)["platform_account_id"]
    assert "creator_info" in first.account_info
    soon = datetime.now(UTC) + timedelta(hours=2) - timedelta(minutes=2)
    refreshed = credentials_for(db, access(), cid, now=soon)
    assert refreshed.access_token != first.access_token
    platforms.sandbox.check_token("tiktok", refreshed.access_token)
    forced = credentials_for(db, access(), cid, True, now=soon + timedelta(minutes=1))
    assert forced.access_token != refreshed.access_token


def test_credentials_for_reports_a_blip_as_transient(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    platforms.sandbox.add_fault(Fault(platform="tiktok", operation="refresh", kind="server_error"))
    with pytest.raises(TransientError):
        credentials_for(db, access(), cid, now=datetime.now(UTC) + timedelta(hours=3))
    assert connection_row(db, cid)["status"] == "connected"
