"""Expiry mails exactly once; reconnecting resumes the targets that waited for the connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.connections.flow import complete_authorization, start_authorization
from shared.connections.refresh import credentials_for, mark_expired
from shared.connections.warnings import enqueue_expiry_warnings
from shared.publishing.targets import resume_after_reconnect
from tests.connections.conftest import connect, connection_row, follow_authorize
from tests.support.parts import access, base_url


def _mails(db, user, kind=None) -> list[dict]:
    with db.service() as conn:
        rows = conn.execute("select * from notifications where user_id = %s order by created_at",
                            (user["sub"],)).fetchall()
    return [r for r in rows if kind is None or r["kind"] == kind]


def _park_targets(db, user, connection_id, platform, count=2) -> list[str]:
    with db.service() as conn:
        video = conn.execute(
            "insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) returning id",
            (user["sub"], f"{user['sub']}/{connection_id}.mp4")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'hi') returning id",
                            (user["sub"], video)).fetchone()["id"]
        ids = []
        for _ in range(count):
            ids.append(str(conn.execute(
                "insert into publish_targets (user_id, post_id, connection_id, platform, state, attempts, "
                "user_message) values (%s, %s, %s, %s, 'needs_reconnect', 2, 'Your connection expired.') "
                "returning id", (user["sub"], post, connection_id, platform)).fetchone()["id"]))
        conn.execute("insert into publish_targets (user_id, post_id, connection_id, platform, state) "
                     "values (%s, %s, %s, %s, 'failed')", (user["sub"], post, connection_id, platform))
    return ids


def test_warning_seven_days_before_reconnect_by_is_sent_once(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")  # refresh token: 180 days
    reconnect_by = connection_row(db, cid)["refresh_token_expires_at"]

    enqueue_expiry_warnings(db, reconnect_by - timedelta(days=8))
    assert _mails(db, user_a) == []
    enqueue_expiry_warnings(db, reconnect_by - timedelta(days=6))
    enqueue_expiry_warnings(db, reconnect_by - timedelta(days=5))

    [mail] = _mails(db, user_a)
    assert mail["kind"] == "connection_expiring" and mail["to_email"] == user_a["email"]
    assert "TikTok" in mail["subject"] and "Reconnect" in mail["body"]
    assert connection_row(db, cid)["expiry_warning_sent_for"] == reconnect_by


def test_past_reconnect_by_expires_the_connection_with_one_mail(db, user_a, platforms):
    cid = connect(db, user_a, "instagram")
    reconnect_by = connection_row(db, cid)["refresh_token_expires_at"]
    enqueue_expiry_warnings(db, reconnect_by + timedelta(minutes=1))
    enqueue_expiry_warnings(db, reconnect_by + timedelta(minutes=2))
    assert connection_row(db, cid)["status"] == "expired"
    assert len(_mails(db, user_a, "connection_expired")) == 1


def test_facebook_page_outlives_the_user_token(db, user_a, platforms):
    cid = connect(db, user_a, "facebook")
    reconnect_by = connection_row(db, cid)["refresh_token_expires_at"]
    enqueue_expiry_warnings(db, reconnect_by - timedelta(days=3))
    enqueue_expiry_warnings(db, reconnect_by + timedelta(days=1))
    # Reminded once; the Page token still works, so the connection is not expired.
    assert len(_mails(db, user_a, "connection_expiring")) == 1
    assert connection_row(db, cid)["status"] == "connected"


def test_mark_expired_twice_sends_one_mail(db, user_a, platforms):
    cid = connect(db, user_a, "youtube")
    assert mark_expired(db, cid, "190") is True
    assert mark_expired(db, cid, "190") is False
    assert len(_mails(db, user_a, "connection_expired")) == 1


def test_reconnect_resumes_parked_targets(db, user_a, platforms):
    cid = connect(db, user_a, "tiktok")
    account = connection_row(db, cid)["platform_account_id"]
    parked = _park_targets(db, user_a, cid, "tiktok")
    platforms.sandbox.revoke_account_tokens("tiktok", account)
    mark_expired(db, cid, "access_token_invalid")
    enqueued: list[list[str]] = []

    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "tiktok", base_url=base_url(),
                                                  now=datetime.now(UTC)),
                              sandbox_account=account)
    result = complete_authorization(db, access(), "tiktok", code=params["code"], state=params["state"],
                                    on_targets_resumed=enqueued.append, on_reconnected=resume_after_reconnect,
                                    base_url=base_url(), now=datetime.now(UTC))

    assert result.connection_ids == [cid] and result.reconnected_ids == [cid]
    assert sorted(result.resumed_target_ids) == sorted(parked)
    assert enqueued == [result.resumed_target_ids]
    row = connection_row(db, cid)
    assert (row["status"], row["status_reason"], row["expiry_warning_sent_for"]) == ("connected", None, None)
    with db.service() as conn:
        states = conn.execute("select id, state, attempts, next_attempt_at, user_message, task_seq "
                              "from publish_targets "
                              "where connection_id = %s", (cid,)).fetchall()
    resumed = [s for s in states if str(s["id"]) in parked]
    assert all(s["state"] == "queued" and s["attempts"] == 0 and s["user_message"] is None for s in resumed)
    assert all(s["next_attempt_at"] <= datetime.now(UTC) and s["task_seq"] == 1 for s in resumed)
    assert sorted(s["state"] for s in states if str(s["id"]) not in parked) == ["failed"]
    # The new tokens work; a later expiry would send a new mail (new credentials generation).
    platforms.sandbox.check_token("tiktok", credentials_for(db, access(), cid, now=datetime.now(UTC)).access_token)
    mark_expired(db, cid, "invalid_grant")
    assert len(_mails(db, user_a, "connection_expired")) == 2


def test_a_failing_enqueue_hook_does_not_lose_the_reconnect(db, user_a, platforms):
    cid = connect(db, user_a, "youtube")
    parked = _park_targets(db, user_a, cid, "youtube", count=1)
    mark_expired(db, cid, "invalid_grant")

    def broken(_: list[str]) -> None:
        raise RuntimeError("queue down")

    account = connection_row(db, cid)["platform_account_id"]
    params = follow_authorize(start_authorization(db, access(), user_a["sub"], "youtube", base_url=base_url(),
                                                  now=datetime.now(UTC)),
                              sandbox_account=account)
    result = complete_authorization(db, access(), "youtube", code=params["code"], state=params["state"],
                                    on_targets_resumed=broken, on_reconnected=resume_after_reconnect,
                                    base_url=base_url(), now=datetime.now(UTC))
    assert result.resumed_target_ids == parked
    assert connection_row(db, cid)["status"] == "connected"
