"""Deleting a user (their auth.users row, as Supabase does) revokes their grants and removes their files.

Real PostgreSQL (the trigger and the cascade), the sandbox's OAuth servers over HTTP
(revocation), and the storage backend (objects under the user's prefix).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.core import Fault, TokenProblem
from shared.accounts.cleanup import GIVE_UP_AFTER, run_account_cleanup
from shared.connections import store
from shared.connections.refresh import credentials_for
from tests.conftest import make_user
from tests.connections.conftest import connect, connection_row
from tests.support.parts import access, vault

USER_TABLES = ("videos", "video_renditions", "social_connections", "oauth_states", "publish_batches", "posts",
               "publish_targets", "idempotency_keys", "platform_quota_usage", "notifications", "publish_events",
               "analytics_snapshots")


def _tokens(db, connection_id: str) -> tuple[str | None, str | None]:
    row = connection_row(db, connection_id)
    who = {"user_id": str(row["user_id"]), "platform": row["platform"]}
    return (store.decrypt(vault(), row["access_token_ciphertext"], purpose="access_token", **who),
            store.decrypt(vault(), row["refresh_token_ciphertext"], purpose="refresh_token", **who))


def _files(storage, user: dict[str, str]) -> list[str]:
    """A video, its converted copy and cover (recorded), and an upload that was never registered."""
    uid = user["sub"]
    paths = [f"{uid}/v1/original.mp4", f"{uid}/v1/converted.mp4", f"{uid}/v1/cover-youtube.jpg",
             f"{uid}/tus-upload-never-registered.mp4"]
    for path in paths:
        storage.put(path, [b"x" * 1000], "video/mp4")
    return paths


def _record_video(db, user: dict[str, str], paths: list[str]) -> None:
    with db.service() as conn:
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) "
                             "returning id", (user["sub"], paths[0])).fetchone()["id"]
        for kind, path in (("converted", paths[1]), ("cover:youtube", paths[2])):
            conn.execute("insert into video_renditions (video_id, user_id, kind, storage_path, content_type, "
                         "size_bytes) values (%s, %s, %s, %s, 'video/mp4', 1000)", (video, user["sub"], kind, path))


def _delete_user(db, user: dict[str, str]) -> None:
    with db.service() as conn:
        assert conn.execute("delete from auth.users where id = %s", (user["sub"],)).rowcount == 1


def _entries(db, user: dict[str, str]) -> list[dict]:
    with db.service() as conn:
        return conn.execute("select * from account_cleanup where user_id = %s order by id",
                            (user["sub"],)).fetchall()


def _dead(sandbox, platform: str, token: str | None, kind: str = "access") -> bool:
    try:
        sandbox.check_token(platform, token, kind=kind)
    except TokenProblem:
        return True
    return False


def test_deleting_a_user_revokes_every_grant_and_removes_every_object(db, platforms, storage):
    leaving, staying = make_user(db), make_user(db)
    connections = {p: connect(db, leaving, p) for p in ("tiktok", "youtube", "facebook", "instagram")}
    tokens = {p: _tokens(db, cid) for p, cid in connections.items()}
    paths = _files(storage, leaving)
    _record_video(db, leaving, paths)
    # Another person's own TikTok account (the same account would share the one grant).
    platforms.sandbox.add_account("tiktok", "act.staying", username="staying.creator")
    kept_connection = connect(db, staying, "tiktok", sandbox_account="act.staying")
    kept_files = _files(storage, staying)

    _delete_user(db, leaving)

    # The cascade removed every row of theirs; what lives outside the database is written down.
    with db.service() as conn:
        for table in USER_TABLES:
            left = conn.execute(f"select count(*) as n from public.{table} where user_id = %s",  # noqa: S608
                                (leaving["sub"],)).fetchone()["n"]
            assert left == 0, table
    entries = _entries(db, leaving)
    assert sorted(e["platform"] or e["storage_prefix"] for e in entries) == sorted(
        [*connections, f"{leaving['sub']}/"])
    # Before the tick: the grants are still live at the platforms.
    assert not _dead(platforms.sandbox, "tiktok", tokens["tiktok"][0])

    summary = run_account_cleanup(db, storage, access(), datetime.now(UTC))

    assert summary.objects_removed >= len(paths) and summary.grants_revoked >= 3 and summary.retrying == 0
    assert _entries(db, leaving) == []            # nothing of theirs stays, ciphertexts included
    assert storage.list(f"{leaving['sub']}/") == []
    assert _dead(platforms.sandbox, "tiktok", tokens["tiktok"][0])
    assert _dead(platforms.sandbox, "youtube", tokens["youtube"][1], kind="refresh")
    assert _dead(platforms.sandbox, "facebook", tokens["facebook"][0])       # the Page token went with the grant
    assert _dead(platforms.sandbox, "facebook", tokens["facebook"][1])       # the user token that was revoked
    assert platforms.sandbox.store("oauth")["tokens_in_url"] == []
    # Instagram has no revoke endpoint; its token is simply no longer stored anywhere.
    # The other user is untouched.
    assert [o.path for o in storage.list(f"{staying['sub']}/")] == sorted(kept_files)
    credentials_for(db, access(), kept_connection, now=datetime.now(UTC))
    assert not _dead(platforms.sandbox, "tiktok", _tokens(db, kept_connection)[0])


def test_a_platform_or_storage_failure_is_retried_until_done(db, platforms, storage):
    user = make_user(db)
    tiktok = connect(db, user, "tiktok")
    youtube = connect(db, user, "youtube")
    tiktok_access, _ = _tokens(db, tiktok)
    _, google_refresh = _tokens(db, youtube)
    _files(storage, user)
    # TikTok is down once; Google refuses our app's credentials once (an operator's mistake, not the user's).
    platforms.sandbox.add_fault(Fault(platform="tiktok", operation="revoke", kind="server_error"))
    platforms.sandbox.add_fault(Fault(platform="youtube", operation="revoke", kind="invalid_client"))
    _delete_user(db, user)
    now = datetime.now(UTC)

    first = run_account_cleanup(db, storage, access(), now)

    assert first.retrying >= 2
    waiting = {e["platform"]: e for e in _entries(db, user)}
    assert set(waiting) == {"tiktok", "youtube"}
    assert all(e["attempts"] == 1 and e["next_attempt_at"] > now for e in waiting.values())
    assert "http_500" in waiting["tiktok"]["last_error"] and "invalid_client" in waiting["youtube"]["last_error"]
    assert storage.list(f"{user['sub']}/") == []
    # Not due yet: the next minute's tick leaves them alone.
    run_account_cleanup(db, storage, access(), now + timedelta(seconds=30))
    assert len(_entries(db, user)) == 2

    run_account_cleanup(db, storage, access(), now + timedelta(minutes=2))

    assert _entries(db, user) == []
    assert _dead(platforms.sandbox, "tiktok", tiktok_access)
    assert _dead(platforms.sandbox, "youtube", google_refresh, kind="refresh")


def test_an_entry_that_never_succeeds_is_dropped_after_a_week(db, platforms, storage):
    user = make_user(db)
    connect(db, user, "tiktok")
    platforms.sandbox.add_fault(Fault(platform="tiktok", operation="revoke", kind="server_error", times=-1))
    _delete_user(db, user)
    now = datetime.now(UTC)
    run_account_cleanup(db, storage, access(), now)
    assert [e["platform"] for e in _entries(db, user)] == ["tiktok"]

    late = now + GIVE_UP_AFTER + timedelta(minutes=1)
    assert run_account_cleanup(db, storage, access(), late).given_up >= 1
    assert _entries(db, user) == []   # the ciphertext does not stay forever


@pytest.mark.parametrize("prefix", ["", "/", "not-a-user/", "../"])
def test_cleanup_never_deletes_outside_one_users_folder(db, storage, prefix):
    bystander = make_user(db)
    files = _files(storage, bystander)
    with db.service() as conn:
        conn.execute("insert into account_cleanup (user_id, kind, storage_prefix) values (%s, 'objects', %s)",
                     (make_user(db)["sub"], prefix))
    run_account_cleanup(db, storage, access(), datetime.now(UTC))
    assert [o.path for o in storage.list(f"{bystander['sub']}/")] == sorted(files)
