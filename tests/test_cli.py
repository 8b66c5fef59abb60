"""The `shortpub` CLI against a real local functions server and a real PostgreSQL."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from typer.testing import CliRunner

from shared.cli import app
from shared.db import Database
from shared.db import local as localdb
from tests.conftest import make_user

JWT_SECRET = "cli-tests-jwt-secret-0123456789abcdef0123"
runner = CliRunner()


@pytest.fixture(scope="module")
def functions(db):
    from shared.local import functions_server

    running = functions_server.start(0)
    yield running
    running.stop()


@pytest.fixture
def cli_env(monkeypatch, functions, db, make_app):
    """The CLI pointed at the server, signed in as a fresh user."""
    from shared.auth import mint_local_token

    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("SHORTPUB_API_URL", functions.url)
    monkeypatch.setenv("TZ", "Europe/Berlin")
    make_app()
    user = make_user(db)
    monkeypatch.setenv("SHORTPUB_TOKEN", mint_local_token(user["sub"], user["email"], secret=JWT_SECRET))
    yield user
    monkeypatch.undo()


@pytest.fixture
def fresh_database(db):
    """An empty database of its own (migrate and key rotation act on a whole database)."""
    admin = localdb.admin_url()
    name = f"shortpub_cli_{uuid.uuid4().hex[:10]}"
    url = localdb.create_database(admin, name)
    yield url
    localdb.drop_database(admin, name)


def test_connections_when_none_are_connected(cli_env):
    result = runner.invoke(app, ["connections"])
    assert result.exit_code == 0, result.output
    assert "No accounts connected yet" in result.output


def test_connections_lists_the_users_accounts(cli_env, db):
    with db.service() as conn:
        conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, username, status) "
            "values (%s, 'youtube', %s, 'my-channel', 'expired')", (cli_env["sub"], f"acct-{uuid.uuid4().hex[:8]}"))
    result = runner.invoke(app, ["connections"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "my-channel" in result.output and "expired" in result.output
    assert "reconnect" in result.output.lower()


def test_export_writes_the_users_data_as_json(cli_env, db, tmp_path):
    import json

    with db.service() as conn:
        conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, username, "
            "access_token_ciphertext) values (%s, 'youtube', %s, 'my-channel', '\\x0001'::bytea)",
            (cli_env["sub"], f"acct-{uuid.uuid4().hex[:8]}"))
    target = tmp_path / "mine.json"
    result = runner.invoke(app, ["export", "--output", str(target)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert f"Saved 0 posts, 0 platform posts and 1 accounts to {target}." in result.output
    document = json.loads(target.read_text())
    assert document["user"]["id"] == cli_env["sub"]
    assert [c["username"] for c in document["connections"]] == ["my-channel"]
    assert "access_token_ciphertext" not in document["connections"][0]


def test_local_token_signs_in_a_local_user(cli_env, monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    email = f"{uuid.uuid4().hex[:8]}@example.test"
    minted = runner.invoke(app, ["local-token", email])
    assert minted.exit_code == 0, minted.output
    monkeypatch.setenv("SHORTPUB_TOKEN", minted.output.strip())
    result = runner.invoke(app, ["connections"])
    assert result.exit_code == 0, result.output
    assert "No accounts connected yet" in result.output
    again = runner.invoke(app, ["local-token", email])  # the same user, not a second one
    from shared.auth import verify_access_token

    assert verify_access_token(again.output.strip()).user_id == verify_access_token(minted.output.strip()).user_id


def test_local_token_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    result = runner.invoke(app, ["local-token"])
    assert result.exit_code == 1
    assert "only works with the local stack" in result.output


def test_status_of_an_unknown_post_is_a_plain_404(cli_env):
    result = runner.invoke(app, ["status", str(uuid.uuid4())])
    assert result.exit_code == 1
    assert "We couldn't find that post." in result.output
    assert "Traceback" not in result.output


def test_status_of_something_that_is_not_an_id(cli_env):
    result = runner.invoke(app, ["status", "hello"])
    assert result.exit_code == 2
    assert "'hello' is not a post id" in result.output


def test_without_a_token_the_api_asks_to_sign_in(cli_env, monkeypatch):
    monkeypatch.delenv("SHORTPUB_TOKEN")
    result = runner.invoke(app, ["connections"])
    assert result.exit_code == 1
    assert "Please sign in to continue." in result.output and "SHORTPUB_TOKEN" in result.output


def test_an_unreachable_server_is_explained(monkeypatch):
    monkeypatch.setenv("SHORTPUB_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SHORTPUB_TOKEN", "x")
    result = runner.invoke(app, ["connections"])
    assert result.exit_code == 1
    assert "Can't reach shortpub at http://127.0.0.1:9" in result.output


def test_schedule_shows_upcoming_posts_by_day(cli_env, db):
    from datetime import UTC, datetime, timedelta

    user_id = cli_env["sub"]
    when = datetime(2031, 3, 4, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, username) "
            "values (%s, 'tiktok', %s, 'me') returning id", (user_id, f"acct-{uuid.uuid4().hex[:8]}")).fetchone()
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) "
                             "returning id", (user_id, f"{user_id}/v/original.mp4")).fetchone()
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'Spring launch') "
                            "returning id", (user_id, video["id"])).fetchone()
        target = conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at, state) "
            "values (%s, %s, %s, 'tiktok', %s, 'scheduled') returning id",
            (user_id, post["id"], connection["id"], when)).fetchone()
        conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at, state) "
            "values (%s, %s, %s, 'tiktok', %s, 'scheduled')",
            (user_id, post["id"], connection["id"], datetime.now(UTC) - timedelta(days=2)))
    result = runner.invoke(app, ["schedule", "--tz", "Europe/Berlin"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Tuesday 04 March 2031" in result.output and "18:30" in result.output
    assert "Spring launch" in result.output and str(target["id"]) in result.output
    assert result.output.count("tiktok") == 1  # the past one is not upcoming


def test_retry_of_an_unknown_target(cli_env):
    result = runner.invoke(app, ["retry", str(uuid.uuid4())])
    assert result.exit_code == 1
    assert "We couldn't find that post." in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "tiktok,snapchat"], "We can't publish to 'snapchat'"),
        (["--to", "youtube", "--at", "2031-01-01T10:00", "--tz", "Mars/Olympus"], "'Mars/Olympus' is not a time zone"),
        (["--to", "youtube", "--at", "next friday"], "'next friday' is not a time we can read"),
        (["--to", ""], "Name at least one platform"),
    ],
)
def test_publish_refuses_bad_options_before_uploading(cli_env, sample_video, args, message):
    result = runner.invoke(app, ["publish", str(sample_video.path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Uploading" not in result.output


def test_publish_needs_an_existing_file(cli_env, tmp_path):
    result = runner.invoke(app, ["publish", str(tmp_path / "missing.mp4"), "--to", "tiktok"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_publish_without_a_connected_account_says_connect_first(cli_env, sample_video):
    result = runner.invoke(app, ["publish", str(sample_video.path), "--to", "youtube", "--caption", "Hello"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "Uploading sample.mp4" in result.output
    assert "Connect your YouTube Shorts account first, then publish again." in result.output


def test_migrate_is_idempotent(fresh_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("ENVIRONMENT", "test")
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "Applied" in first.output and "20261123000000" in first.output
    second = runner.invoke(app, ["migrate"])
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    import psycopg

    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("select count(*) from public.publish_targets").fetchone() == (0,)


def test_rotate_keys_re_encrypts_and_then_has_nothing_left(fresh_database, monkeypatch, db, make_app):
    from shared.connections.vault import TokenVault
    from shared.db import migrate

    migrate.apply(fresh_database, local=True)
    old, new = os.urandom(32), os.urandom(32)
    vault_v1 = TokenVault({1: old}, active_version=1)
    target = Database(fresh_database, min_size=1, max_size=2)
    try:
        user = make_user(target)
        with target.service() as conn:
            row = conn.execute(
                "insert into social_connections (user_id, platform, platform_account_id, access_token_ciphertext) "
                "values (%s, 'tiktok', 'acct-1', %s) returning id",
                (user["sub"], vault_v1.encrypt("token-value", user_id=user["sub"], platform="tiktok",
                                               purpose="access_token"))).fetchone()
        keys = f"1:{base64.b64encode(old).decode()},2:{base64.b64encode(new).decode()}"
        monkeypatch.setenv("TOKEN_VAULT_KEYS", keys)
        make_app(database=target)
        first = runner.invoke(app, ["rotate-keys"])
        assert first.exit_code == 0, first.output
        assert "Re-encrypted 1 stored secret(s) with key version 2." in first.output
        second = runner.invoke(app, ["rotate-keys"])
        assert "Re-encrypted 0 stored secret(s)" in second.output
        with target.service() as conn:
            sealed = conn.execute("select access_token_ciphertext from social_connections where id = %s",
                                  (row["id"],)).fetchone()["access_token_ciphertext"]
        assert TokenVault({2: new}, active_version=2).decrypt(
            bytes(sealed), user_id=user["sub"], platform="tiktok", purpose="access_token") == "token-value"
    finally:
        make_app.restore()
        target.close()


def test_rotate_keys_without_the_old_key_changes_nothing(fresh_database, monkeypatch, db, make_app):
    from shared.connections.vault import TokenVault
    from shared.db import migrate

    migrate.apply(fresh_database, local=True)
    target = Database(fresh_database, min_size=1, max_size=2)
    try:
        user = make_user(target)
        sealed = TokenVault({1: os.urandom(32)}, active_version=1).encrypt(
            "token-value", user_id=user["sub"], platform="tiktok", purpose="access_token")
        with target.service() as conn:
            conn.execute("insert into social_connections (user_id, platform, platform_account_id, "
                         "access_token_ciphertext) values (%s, 'tiktok', 'acct-1', %s)", (user["sub"], sealed))
        monkeypatch.setenv("TOKEN_VAULT_KEYS", f"2:{base64.b64encode(os.urandom(32)).decode()}")
        make_app(database=target)
        result = runner.invoke(app, ["rotate-keys"])
        assert result.exit_code == 1
        assert "Nothing was changed" in result.output and "key version 1" in result.output
    finally:
        make_app.restore()
        target.close()


def test_insights_prints_recommendations_with_their_evidence(cli_env, db):
    from datetime import UTC, datetime

    from tests.support.history import simulate

    simulate(db, cli_env["sub"], days=60, posts_per_day=12, end=datetime(2026, 11, 1, tzinfo=UTC), snapshot_days=8)
    result = runner.invoke(app, ["insights", "--tz", "UTC", "--platform", "tiktok"])
    assert result.exit_code == 0, result.output
    assert "What works for you" in result.output and "tiktok" in result.output
    assert "18:00-21:00" in result.output and "p=" in result.output


def test_insights_with_no_history_says_why(cli_env):
    result = runner.invoke(app, ["insights", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    assert "Not enough data yet" in result.output
