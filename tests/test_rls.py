"""Row level security, attacked with the real roles and JWT claims.

For every table in the public schema: another user and `anon` can neither read,
change, delete nor plant rows in a user's data; the owner can do exactly what the
product allows and nothing the server owns. The table list comes from the
catalog, so a new table without a spec here fails the suite.
"""

# SQL in this file is assembled only from the table specs below, never from input.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from shared.db import Database
from tests.conftest import make_user

DENIED = "denied"
FAKE_CIPHERTEXT = b"\x00\x01" + b"\x00" * 12 + b"not-a-real-token-ciphertext"


# ----------------------------------------------------------------------------- a user's world


@dataclass
class World:
    claims: dict[str, str]
    video: str
    rendition: str
    connection: str
    oauth_state: str
    batch: str
    post: str
    target: str
    idempotency_key: str
    quota_usage: int
    notification: str
    publish_event: int
    analytics_snapshot: int
    caption_suggestion: int = 0

    @property
    def user_id(self) -> str:
        return self.claims["sub"]


def seed_world(db: Database, platform: str = "youtube") -> World:
    """One row in every table for a new user, written the way the server writes them."""
    claims = make_user(db)
    uid = claims["sub"]
    tag = uuid.uuid4().hex[:10]

    def one(conn, sql: str, params: tuple) -> Any:
        return conn.execute(sql, params).fetchone()["id"]

    with db.service() as conn:
        video = one(conn, "insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) returning id",
                    (uid, f"{uid}/{tag}.mp4"))
        rendition = one(
            conn,
            "insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes) "
            "values (%s, %s, 'converted', %s, 'video/mp4', 900) returning id",
            (video, uid, f"{uid}/{tag}-converted.mp4"))
        connection = one(
            conn,
            "insert into social_connections (user_id, platform, platform_account_id, username, "
            "access_token_ciphertext, refresh_token_ciphertext) values (%s, %s, %s, 'creator', %s, %s) returning id",
            (uid, platform, f"acct-{tag}", FAKE_CIPHERTEXT, FAKE_CIPHERTEXT))
        oauth_state = one(
            conn,
            "insert into oauth_states (user_id, platform, state_hash, code_verifier_ciphertext, expires_at) "
            "values (%s, %s, %s, %s, now() + interval '10 minutes') returning id",
            (uid, platform, f"hash-{tag}", FAKE_CIPHERTEXT))
        batch = one(conn, "insert into publish_batches (user_id, total) values (%s, 1) returning id", (uid,))
        post = one(conn, "insert into posts (user_id, video_id, batch_id, caption) values (%s, %s, %s, 'hello') "
                   "returning id", (uid, video, batch))
        target = one(
            conn,
            "insert into publish_targets (user_id, post_id, connection_id, platform, caption, scheduled_at) "
            "values (%s, %s, %s, %s, 'first caption', now() + interval '1 day') returning id",
            (uid, post, connection, platform))
        conn.execute("insert into idempotency_keys (user_id, key, request_hash) values (%s, %s, 'h')",
                     (uid, f"key-{tag}"))
        quota_usage = one(conn, "insert into platform_quota_usage (platform, scope, user_id, target_id) "
                          "values (%s, 'project', %s, %s) returning id", (platform, uid, target))
        notification = one(
            conn,
            "insert into notifications (user_id, kind, to_email, subject, body, dedupe_key) "
            "values (%s, 'published', %s, 'Published', 'Your video is live.', %s) returning id",
            (uid, claims["email"], f"dedupe-{tag}"))
        publish_event = one(conn, "insert into publish_events (user_id, platform, post_id, target_id, event) "
                            "values (%s, %s, %s, %s, 'note') returning id", (uid, platform, post, target))
        analytics_snapshot = one(
            conn,
            "insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views) "
            "values (%s, %s, %s, 'yt-123', 10) returning id", (uid, target, platform))
        caption_suggestion = one(conn, "insert into caption_suggestions (user_id, video_id, platforms, engine) "
                                 "values (%s, %s, '{tiktok}', 'local') returning id", (uid, video))
    return World(claims, str(video), str(rendition), str(connection), str(oauth_state), str(batch), str(post),
                 str(target), f"key-{tag}", quota_usage, str(notification), publish_event, analytics_snapshot,
                 caption_suggestion)


# ----------------------------------------------------------------------------- what an attack tries per table


@dataclass(frozen=True)
class TableSpec:
    where: str                                     # picks the owner's row, params from `key`
    key: Callable[[World], dict[str, Any]]
    harmless_update: str                           # a granted column where a grant exists
    insert_for: Callable[[World, str], tuple[str, dict[str, Any]]]   # a valid row of `World` owned by user id


def by_id(attr: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"id": getattr(w, attr)}


def insert(sql: str, **extra: Callable[[World], Any]) -> Callable[[World, str], tuple[str, dict[str, Any]]]:
    def build(world: World, owner: str) -> tuple[str, dict[str, Any]]:
        params = {"owner": owner, "tag": uuid.uuid4().hex, **{k: f(world) for k, f in extra.items()}}
        return sql, params
    return build


SPECS: dict[str, TableSpec] = {
    "videos": TableSpec(
        "id = %(id)s", by_id("video"), "original_filename = 'hacked.mp4'",
        insert("insert into videos (user_id, storage_path, size_bytes) values (%(owner)s, %(tag)s, 1)")),
    "video_renditions": TableSpec(
        "id = %(id)s", by_id("rendition"), "kind = 'cover:youtube'",
        insert("insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes) "
               "values (%(video)s, %(owner)s, 'cover:tiktok', %(tag)s, 'image/jpeg', 1)",
               video=lambda w: w.video)),
    "social_connections": TableSpec(
        "id = %(id)s", by_id("connection"), "username = 'hacked'",
        insert("insert into social_connections (user_id, platform, platform_account_id, access_token_ciphertext) "
               "values (%(owner)s, 'tiktok', %(tag)s, '\\x00'::bytea)")),
    "oauth_states": TableSpec(
        "id = %(id)s", by_id("oauth_state"), "used_at = now()",
        insert("insert into oauth_states (user_id, platform, state_hash, expires_at) "
               "values (%(owner)s, 'tiktok', %(tag)s, now() + interval '5 minutes')")),
    "publish_batches": TableSpec(
        "id = %(id)s", by_id("batch"), "status = 'failed'",
        insert("insert into publish_batches (user_id, total) values (%(owner)s, 3)")),
    "posts": TableSpec(
        "id = %(id)s", by_id("post"), "caption = 'hacked'",
        insert("insert into posts (user_id, video_id, caption) values (%(owner)s, %(video)s, 'planted')",
               video=lambda w: w.video)),
    "publish_targets": TableSpec(
        "id = %(id)s", by_id("target"), "caption = 'hacked'",
        insert("insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at) "
               "values (%(owner)s, %(post)s, %(connection)s, 'youtube', now() + interval '2 days')",
               post=lambda w: w.post, connection=lambda w: w.connection)),
    "idempotency_keys": TableSpec(
        "user_id = %(user_id)s and key = %(key)s", lambda w: {"user_id": w.user_id, "key": w.idempotency_key},
        "response = '{\"hacked\": true}'::jsonb",
        insert("insert into idempotency_keys (user_id, key, request_hash) values (%(owner)s, %(tag)s, 'h')")),
    "platform_quota_usage": TableSpec(
        "id = %(id)s", by_id("quota_usage"), "units = 100",
        insert("insert into platform_quota_usage (platform, scope, user_id, units) "
               "values ('youtube', 'project', %(owner)s, 10000)")),
    "notifications": TableSpec(
        "id = %(id)s", by_id("notification"), "subject = 'hacked'",
        insert("insert into notifications (user_id, kind, to_email, subject, body) "
               "values (%(owner)s, 'phish', 'x@example.test', 'Reset your password', 'click here')")),
    "publish_events": TableSpec(
        "id = %(id)s", by_id("publish_event"), "event = 'hacked'",
        insert("insert into publish_events (user_id, platform, event) values (%(owner)s, 'youtube', 'forged')")),
    "analytics_snapshots": TableSpec(
        "id = %(id)s", by_id("analytics_snapshot"), "views = 1000000",
        insert("insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views) "
               "values (%(owner)s, %(target)s, 'youtube', 'x', 1000000)", target=lambda w: w.target)),
    "caption_suggestions": TableSpec(
        "id = %(id)s", by_id("caption_suggestion"), "engine = 'gemini'",
        insert("insert into caption_suggestions (user_id, platforms) values (%(owner)s, '{tiktok}')")),
}
TABLES = sorted(SPECS)

# Tables a user may only read; everything in them is written by the server.
SERVER_WRITTEN = {"videos", "video_renditions", "social_connections", "oauth_states", "publish_batches",
                  "platform_quota_usage", "notifications", "publish_events", "analytics_snapshots",
                  "caption_suggestions"}
# Tables a user may not even read.
SERVER_ONLY = {"oauth_states"}
# The columns of these a user may read (the rest are token ciphertexts).
READABLE_COLUMNS = {"social_connections": "id, user_id, platform, username, status"}


# ----------------------------------------------------------------------------- running as someone


def run(db: Database, who: dict[str, str] | None, sql: str, params: Any = None) -> int | str:
    """Rows returned (select) or affected (write) as that user (None: anon), or DENIED."""
    try:
        with db.user(who) if who is not None else db.anon() as conn:
            cursor = conn.execute(sql, params)
            return len(cursor.fetchall()) if cursor.description is not None else cursor.rowcount
    except psycopg.errors.InsufficientPrivilege:
        return DENIED


def snapshot(db: Database, table: str, world: World) -> dict[str, Any]:
    spec = SPECS[table]
    with db.service() as conn:
        rows = conn.execute(f"select to_jsonb(t) as row from public.{table} t where {spec.where}",
                            spec.key(world)).fetchall()
    assert len(rows) == 1
    return rows[0]["row"]


def count_owned(db: Database, table: str, owner: str) -> int:
    with db.service() as conn:
        return conn.execute(f"select count(*) as n from public.{table} where user_id = %s",
                            (owner,)).fetchone()["n"]


@pytest.fixture(scope="module")
def victim(db: Database) -> World:
    return seed_world(db)


@pytest.fixture(scope="module")
def attacker(db: Database) -> World:
    # The attacker has a full world of their own, so policies that check "own post /
    # own connection" have something real to (wrongly) accept.
    return seed_world(db)


# ----------------------------------------------------------------------------- coverage


def test_every_public_table_is_covered_and_has_rls(db):
    with db.service() as conn:
        tables = {r["tablename"] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public'").fetchall()}
        without_rls = [r["relname"] for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity").fetchall()]
    assert tables == set(SPECS), (
        f"tables without an RLS attack spec in tests/test_rls.py: {sorted(tables - set(SPECS))}; "
        f"specs for tables that no longer exist: {sorted(set(SPECS) - tables)}")
    assert without_rls == []


# ----------------------------------------------------------------------------- attacks, per table


@pytest.mark.parametrize("table", TABLES)
def test_other_user_cannot_touch_rows(db, victim, attacker, table):
    spec = SPECS[table]
    before = snapshot(db, table, victim)
    owned_before = count_owned(db, table, victim.user_id)
    where, key = spec.where, spec.key(victim)

    columns = READABLE_COLUMNS.get(table, "*")
    assert run(db, attacker.claims, f"select {columns} from public.{table} where {where}", key) in (0, DENIED)
    assert run(db, attacker.claims, f"select {columns} from public.{table} where user_id = %(u)s",
               {"u": victim.user_id}) in (0, DENIED)
    assert run(db, attacker.claims, f"update public.{table} set {spec.harmless_update} where {where}", key) \
        in (0, DENIED)
    assert run(db, attacker.claims, f"update public.{table} set {spec.harmless_update}") in (0, 1, DENIED)
    assert run(db, attacker.claims, f"delete from public.{table} where {where}", key) in (0, DENIED)
    # Planting a row in the victim's name, even one pointing at the victim's own data.
    sql, params = spec.insert_for(victim, victim.user_id)
    assert run(db, attacker.claims, sql, params) == DENIED

    assert snapshot(db, table, victim) == before
    assert count_owned(db, table, victim.user_id) == owned_before


@pytest.mark.parametrize("table", TABLES)
def test_anon_sees_nothing_and_changes_nothing(db, victim, table):
    spec = SPECS[table]
    before = snapshot(db, table, victim)
    owned_before = count_owned(db, table, victim.user_id)

    assert run(db, None, f"select * from public.{table}") in (0, DENIED)
    assert run(db, None, f"update public.{table} set {spec.harmless_update} where {spec.where}",
               spec.key(victim)) in (0, DENIED)
    assert run(db, None, f"delete from public.{table}") in (0, DENIED)
    sql, params = spec.insert_for(victim, victim.user_id)
    assert run(db, None, sql, params) == DENIED

    assert snapshot(db, table, victim) == before
    assert count_owned(db, table, victim.user_id) == owned_before


@pytest.mark.parametrize("table", TABLES)
def test_owner_reads_own_rows_only_where_allowed(db, victim, attacker, table):
    spec = SPECS[table]
    columns = READABLE_COLUMNS.get(table, "*")
    expected = DENIED if table in SERVER_ONLY else 1
    assert run(db, victim.claims, f"select {columns} from public.{table} where {spec.where}",
               spec.key(victim)) == expected
    if table not in SERVER_ONLY:
        # Reading the whole table returns only the caller's rows.
        with db.user(victim.claims) as conn:
            owners = {str(r["user_id"]) for r in conn.execute(
                f"select user_id from public.{table}").fetchall()}
        assert owners == {victim.user_id}


@pytest.mark.parametrize("table", sorted(SERVER_WRITTEN))
def test_owner_cannot_write_server_written_tables(db, victim, table):
    spec = SPECS[table]
    before = snapshot(db, table, victim)
    assert run(db, victim.claims, f"update public.{table} set {spec.harmless_update} where {spec.where}",
               spec.key(victim)) == DENIED
    assert run(db, victim.claims, f"delete from public.{table} where {spec.where}", spec.key(victim)) == DENIED
    sql, params = spec.insert_for(victim, victim.user_id)
    assert run(db, victim.claims, sql, params) == DENIED
    assert snapshot(db, table, victim) == before


# ----------------------------------------------------------------------------- server-owned columns


def test_owner_cannot_read_token_ciphertexts(db, victim):
    for sql in (
        "select access_token_ciphertext from social_connections",
        "select refresh_token_ciphertext from social_connections where id = %(id)s",
        "select * from social_connections",
        "select to_jsonb(c) from social_connections c",
        "select code_verifier_ciphertext from oauth_states",
    ):
        assert run(db, victim.claims, sql, {"id": victim.connection}) == DENIED, sql


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("publish_targets", "state = 'published'"),
        ("publish_targets", "platform_post_id = 'fake'"),
        ("publish_targets", "platform_url = 'https://evil.example'"),
        ("publish_targets", "step_data = '{}'::jsonb"),
        ("publish_targets", "attempts = 0"),
        ("publish_targets", "user_message = null"),
        ("publish_targets", "connection_id = connection_id"),
        ("publish_targets", "user_id = user_id"),
        ("social_connections", "access_token_ciphertext = '\\x00'::bytea"),
        ("social_connections", "refresh_token_ciphertext = null"),
        ("social_connections", "status = 'connected'"),
        ("posts", "user_id = user_id"),
        ("posts", "video_id = video_id"),
        ("idempotency_keys", "request_hash = 'x'"),
        ("idempotency_keys", "user_id = user_id"),
    ],
)
def test_owner_cannot_change_server_owned_columns(db, victim, table, assignment):
    spec = SPECS[table]
    before = snapshot(db, table, victim)
    assert run(db, victim.claims, f"update public.{table} set {assignment} where {spec.where}",
               spec.key(victim)) == DENIED
    assert snapshot(db, table, victim) == before


# ----------------------------------------------------------------------------- what the owner may do


def test_owner_creates_post_and_target_on_own_video_and_connection(db):
    world = seed_world(db)
    with db.user(world.claims) as conn:
        post = conn.execute(
            "insert into posts (user_id, video_id, caption, hashtags) values (%s, %s, 'new', '{a,b}') returning id",
            (world.user_id, world.video)).fetchone()["id"]
        target = conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, caption, options, "
            "scheduled_at, timezone) values (%s, %s, %s, 'youtube', 'for youtube', %s, "
            "now() + interval '3 days', 'Europe/Berlin') returning id, state",
            (world.user_id, post, world.connection, Jsonb({"privacy": "public"}))).fetchone()
        conn.execute("insert into idempotency_keys (user_id, key, request_hash) values (%s, 'k2', 'h')",
                     (world.user_id,))
        assert conn.execute("update idempotency_keys set response = '{\"ok\": true}' where key = 'k2'").rowcount == 1
    assert target["state"] == "scheduled"
    # The audit trigger recorded the creation in the user's name.
    assert run(db, world.claims, "select 1 from publish_events where target_id = %s and event = 'created'",
               (target["id"],)) == 1


def test_owner_cannot_create_a_target_in_a_server_state(db):
    world = seed_world(db)
    assert run(db, world.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform, state) "
               "values (%s, %s, %s, 'youtube', 'published')",
               (world.user_id, world.post, world.connection)) == DENIED
    # Nor on a platform the connection is not for.
    assert run(db, world.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform) "
               "values (%s, %s, %s, 'tiktok')",
               (world.user_id, world.post, world.connection)) == DENIED


def test_owner_edits_a_scheduled_target_but_not_a_running_one(db):
    world = seed_world(db)
    assert run(db, world.claims,
               "update publish_targets set caption = 'better caption', scheduled_at = now() + interval '2 days' "
               "where id = %s", (world.target,)) == 1
    assert snapshot(db, "publish_targets", world)["caption"] == "better caption"
    assert run(db, world.claims, "update posts set caption = 'edited', hashtags = '{x}' where id = %s",
               (world.post,)) == 1

    with db.service() as conn:
        conn.execute("update publish_targets set state = 'uploading' where id = %s", (world.target,))
    assert run(db, world.claims, "update publish_targets set caption = 'too late' where id = %s",
               (world.target,)) == 0
    assert snapshot(db, "publish_targets", world)["caption"] == "better caption"
    # A post whose target already started cannot be deleted from under the worker.
    assert run(db, world.claims, "delete from posts where id = %s", (world.post,)) == 0


def test_owner_cancels_through_cancel_target(db, attacker):
    world = seed_world(db)
    with db.user(world.claims) as conn:
        row = conn.execute("select * from cancel_target(%s)", (world.target,)).fetchone()
    assert row["id"] is not None and str(row["id"]) == world.target
    assert row["state"] == "canceled"
    assert snapshot(db, "publish_targets", world)["state"] == "canceled"
    # Once canceled, its text is frozen too.
    assert run(db, world.claims, "update publish_targets set caption = 'x' where id = %s", (world.target,)) == 0


def test_other_user_cannot_cancel_or_retry_through_the_functions(db, attacker):
    world = seed_world(db)
    before = snapshot(db, "publish_targets", world)
    with db.user(attacker.claims) as conn:
        canceled = conn.execute("select * from cancel_target(%s)", (world.target,)).fetchone()
    assert canceled["id"] is None
    with db.service() as conn:
        conn.execute("update publish_targets set state = 'failed' where id = %s", (world.target,))
    with db.user(attacker.claims) as conn:
        retried = conn.execute("select * from retry_target(%s)", (world.target,)).fetchone()
    assert retried["id"] is None
    after = snapshot(db, "publish_targets", world)
    assert after["state"] == "failed" and after["attempts"] == before["attempts"]
    assert run(db, None, "select * from cancel_target(%s)", (world.target,)) == DENIED
    assert run(db, None, "select * from retry_target(%s)", (world.target,)) == DENIED


def test_cannot_post_on_someone_elses_video_or_target_their_connection(db, victim, attacker):
    # A post in the attacker's own name, on the victim's video.
    assert run(db, attacker.claims, "insert into posts (user_id, video_id) values (%s, %s)",
               (attacker.user_id, victim.video)) == DENIED
    # A post in the attacker's own name, in the victim's batch.
    assert run(db, attacker.claims, "insert into posts (user_id, video_id, batch_id) values (%s, %s, %s)",
               (attacker.user_id, attacker.video, victim.batch)) == DENIED
    # A target on the attacker's own post, publishing through the victim's account.
    assert run(db, attacker.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform) values (%s, %s, %s, 'youtube')",
               (attacker.user_id, attacker.post, victim.connection)) == DENIED
    # A target on the victim's post through the attacker's own account.
    assert run(db, attacker.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform) values (%s, %s, %s, 'youtube')",
               (attacker.user_id, victim.post, attacker.connection)) == DENIED
    # Sanity: the same insert on the attacker's own post and connection is allowed.
    assert run(db, attacker.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at) "
               "values (%s, %s, %s, 'youtube', now() + interval '1 day')",
               (attacker.user_id, attacker.post, attacker.connection)) == 1


def test_cannot_target_a_disconnected_connection(db):
    world = seed_world(db)
    with db.service() as conn:
        conn.execute("update social_connections set status = 'disconnected' where id = %s", (world.connection,))
    assert run(db, world.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform) values (%s, %s, %s, 'youtube')",
               (world.user_id, world.post, world.connection)) == DENIED


def test_forged_claims_without_a_user_see_nothing(db, victim):
    # A transaction whose claims name no user (e.g. a token missing `sub`) matches no row.
    for table in TABLES:
        if table in SERVER_ONLY:
            continue
        columns = READABLE_COLUMNS.get(table, "*")
        assert run(db, {"role": "authenticated"}, f"select {columns} from public.{table}") == 0, table
