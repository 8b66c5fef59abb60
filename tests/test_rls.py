"""Row level security and privileges, attacked with the real roles and JWT claims.

For every table in the public schema: another user and `anon` can neither read,
change, delete nor plant rows in a user's data; the owner reads their own rows and
writes nothing directly (writes go through the API, docs/security.md). The tables,
sequences and functions come from the catalog, so a new object without a policy
here fails the suite.
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
    outbox_event: str
    webhook_endpoint: str
    webhook_delivery: str
    webhook_attempt: int
    experiment: str
    experiment_variant: str
    account_cleanup: int
    caption_suggestion: int
    usage_hold_scope: str = ""

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
        # The snapshot's day is kept by a trigger (analytics_daily); the target is not published, so no age is.
        conn.execute("insert into analytics_at_age (target_id, user_id, age, after_at, after_views) "
                     "values (%s, %s, '24h', now(), 10)", (target, uid))
        outbox_event = one(conn, "insert into outbox_events (user_id, type, post_id, target_id) "
                           "values (%s, 'target.published', %s, %s) returning id", (uid, post, target))
        webhook_endpoint = one(
            conn, "insert into webhook_endpoints (user_id, url, events, secret_ciphertext) "
            "values (%s, 'https://hooks.example.com/in', '{target.published}', %s) returning id",
            (uid, FAKE_CIPHERTEXT))
        webhook_delivery = one(
            conn, "insert into webhook_deliveries (endpoint_id, event_id, user_id, event_type, payload) "
            "values (%s, %s, %s, 'target.published', '{}') returning id", (webhook_endpoint, outbox_event, uid))
        webhook_attempt = one(
            conn, "insert into webhook_attempts (delivery_id, endpoint_id, user_id, attempt, succeeded, latency_ms) "
            "values (%s, %s, %s, 1, true, 12) returning id", (webhook_delivery, webhook_endpoint, uid))
        conn.execute("insert into notification_preferences (user_id, publishing) values (%s, 'failures')", (uid,))
        experiment = one(
            conn,
            "insert into experiments (user_id, video_id, name, design, metric, min_views_per_variant, alpha, "
            "decide_by) values (%s, %s, 'test', 'split_accounts', 'engagement_rate', 1000, 0.05, "
            "now() + interval '14 days') returning id", (uid, video))
        experiment_variant = one(
            conn,
            "insert into experiment_variants (experiment_id, user_id, label, post_id, caption) "
            "values (%s, %s, 'A', %s, 'variant A') returning id", (experiment, uid, post))
        conn.execute("insert into publishing_defaults (user_id, platform, traits) values (%s, %s, '{}')",
                     (uid, platform))
        # Not due (infinity): the account-cleanup tick of other tests must leave it alone.
        account_cleanup = one(
            conn,
            "insert into account_cleanup (user_id, kind, platform, access_token_ciphertext, next_attempt_at) "
            "values (%s, 'revoke', %s, %s, 'infinity') returning id", (uid, platform, FAKE_CIPHERTEXT))
        caption_suggestion = one(conn, "insert into caption_suggestions (user_id, video_id, platforms, engine) "
                                 "values (%s, %s, '{tiktok}', 'local') returning id", (uid, video))
        # A platform-wide row (no owner): the seeded account's usage hold, as the worker records it.
        conn.execute("insert into platform_usage_holds (platform, scope, held_until) values (%s, %s, now())",
                     (platform, f"acct-{tag}"))
    return World(claims, str(video), str(rendition), str(connection), str(oauth_state), str(batch), str(post),
                 str(target), f"key-{tag}", quota_usage, str(notification), publish_event, analytics_snapshot,
                 str(outbox_event), str(webhook_endpoint), str(webhook_delivery), webhook_attempt,
                 str(experiment), str(experiment_variant), account_cleanup, caption_suggestion, f"acct-{tag}")


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
    "analytics_at_age": TableSpec(
        "target_id = %(target)s and age = '24h'", lambda w: {"target": w.target}, "after_views = 1000000",
        insert("insert into analytics_at_age (target_id, user_id, age, after_at, after_views) "
               "values (%(target)s, %(owner)s, '72h', now(), 1000000)", target=lambda w: w.target)),
    "analytics_daily": TableSpec(
        "target_id = %(target)s", lambda w: {"target": w.target}, "gained_views = 1000000",
        insert("insert into analytics_daily (target_id, user_id, day, views) "
               "values (%(target)s, %(owner)s, '2000-01-01', 1000000)", target=lambda w: w.target)),
    "outbox_events": TableSpec(
        "id = %(id)s", by_id("outbox_event"), "type = 'post.completed'",
        insert("insert into outbox_events (user_id, type, fanout_due) values (%(owner)s, 'target.failed', true)")),
    "webhook_endpoints": TableSpec(
        "id = %(id)s", by_id("webhook_endpoint"), "url = 'https://attacker.example.com/'",
        insert("insert into webhook_endpoints (user_id, url, events, secret_ciphertext) "
               "values (%(owner)s, 'https://attacker.example.com/', '{post.completed}', '\\x00'::bytea)")),
    "webhook_deliveries": TableSpec(
        "id = %(id)s", by_id("webhook_delivery"), "status = 'succeeded'",
        insert("insert into webhook_deliveries (endpoint_id, user_id, event_type, payload) "
               "values (%(endpoint)s, %(owner)s, 'webhook.test', '{}')", endpoint=lambda w: w.webhook_endpoint)),
    "webhook_attempts": TableSpec(
        "id = %(id)s", by_id("webhook_attempt"), "succeeded = false",
        insert("insert into webhook_attempts (delivery_id, endpoint_id, user_id, attempt, succeeded, latency_ms) "
               "values (%(delivery)s, %(endpoint)s, %(owner)s, 9, true, 1)",
               delivery=lambda w: w.webhook_delivery, endpoint=lambda w: w.webhook_endpoint)),
    "notification_preferences": TableSpec(
        "user_id = %(user_id)s", lambda w: {"user_id": w.user_id}, "publishing = 'none'",
        insert("insert into notification_preferences (user_id, publishing) values (%(owner)s, 'none')")),
    "experiments": TableSpec(
        "id = %(id)s", by_id("experiment"), "status = 'decided'",
        insert("insert into experiments (user_id, video_id, name, design, metric, min_views_per_variant, alpha, "
               "decide_by) values (%(owner)s, %(video)s, 'forged', 'split_accounts', 'views', 1, 0.4, now())",
               video=lambda w: w.video)),
    "experiment_variants": TableSpec(
        "id = %(id)s", by_id("experiment_variant"), "caption = 'hacked'",
        insert("insert into experiment_variants (experiment_id, user_id, label, post_id, caption) "
               "values (%(experiment)s, %(owner)s, 'Z', %(post)s, 'forged')",
               experiment=lambda w: w.experiment, post=lambda w: w.post)),
    "publishing_defaults": TableSpec(
        "user_id = %(user_id)s", lambda w: {"user_id": w.user_id}, "enabled = false",
        insert("insert into publishing_defaults (user_id, platform, traits) values (%(owner)s, %(tag)s, '{}')")),
    "platform_usage_holds": TableSpec(
        "scope = %(scope)s", lambda w: {"scope": w.usage_hold_scope}, "held_until = now() + interval '1 day'",
        insert("insert into platform_usage_holds (platform, scope, held_until) "
               "values ('facebook', %(tag)s, now() + interval '1 day')")),
    "account_cleanup": TableSpec(
        "id = %(id)s", by_id("account_cleanup"), "attempts = 0",
        insert("insert into account_cleanup (user_id, kind, storage_prefix) values (%(owner)s, 'objects', '/')")),
    "caption_suggestions": TableSpec(
        "id = %(id)s", by_id("caption_suggestion"), "engine = 'gemini'",
        insert("insert into caption_suggestions (user_id, platforms) values (%(owner)s, '{tiktok}')")),
}
TABLES = sorted(SPECS)

# The policy of docs/security.md, "Database privileges". Users write nothing directly:
# every table is written by the server (the API checks a request, then writes as the service).
WRITE_POLICY: dict[str, dict[str, set[str]]] = {}
# Tables a user may not even read.
SERVER_ONLY = {"oauth_states", "idempotency_keys", "account_cleanup", "platform_usage_holds"}
# Platform-wide tables with no owner column: "the victim's rows" are all of them.
OWNERLESS = {"platform_usage_holds"}
# The columns of these a user may read (the rest are token ciphertexts).
READABLE_COLUMNS = {"social_connections": "id, user_id, platform, username, status",
                    "webhook_endpoints": "id, user_id, url, events, status"}
# Columns a reader of the table may not see: token ciphertexts and the server's mail bookkeeping.
UNREADABLE_COLUMNS = {"social_connections": {"access_token_ciphertext", "refresh_token_ciphertext",
                                             "expiry_warning_sent_for"},
                      "webhook_endpoints": {"secret_ciphertext"}}
# Functions a signed-in user may call; each checks ownership and state itself.
USER_FUNCTIONS = {"cancel_target", "retry_target"}
API_ROLES = ("anon", "authenticated")


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
        if table in OWNERLESS:
            return conn.execute(f"select count(*) as n from public.{table}").fetchone()["n"]
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
    if table not in OWNERLESS:
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


@pytest.mark.parametrize("table", TABLES)
def test_owner_cannot_write_any_table_directly(db, victim, table):
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
        "select secret_ciphertext from webhook_endpoints",
        "select * from webhook_endpoints",
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


def test_owner_cannot_insert_posts_or_targets_directly(db):
    """The frontend's PostgREST client could skip every check the API makes (captions, media, budgets)."""
    world = seed_world(db)
    posts_before, targets_before = count_owned(db, "posts", world.user_id), count_owned(db, "publish_targets",
                                                                                        world.user_id)
    assert run(db, world.claims,
               "insert into posts (user_id, video_id, caption) values (%s, %s, 'direct')",
               (world.user_id, world.video)) == DENIED
    # A 5,000-character caption on the user's own post and connection, straight into the queue.
    assert run(db, world.claims,
               "insert into publish_targets (user_id, post_id, connection_id, platform, caption) "
               "values (%s, %s, %s, 'youtube', %s)",
               (world.user_id, world.post, world.connection, "x" * 5000)) == DENIED
    assert run(db, world.claims, "update publish_targets set caption = 'edited' where id = %s",
               (world.target,)) == DENIED
    assert run(db, world.claims, "delete from posts where id = %s", (world.post,)) == DENIED
    assert count_owned(db, "posts", world.user_id) == posts_before
    assert count_owned(db, "publish_targets", world.user_id) == targets_before


def test_owner_cancels_through_cancel_target(db, attacker):
    world = seed_world(db)
    with db.user(world.claims) as conn:
        row = conn.execute("select * from cancel_target(%s)", (world.target,)).fetchone()
    assert row["id"] is not None and str(row["id"]) == world.target
    assert row["state"] == "canceled"
    assert snapshot(db, "publish_targets", world)["state"] == "canceled"


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


def test_forged_claims_without_a_user_see_nothing(db, victim):
    # A transaction whose claims name no user (e.g. a token missing `sub`) matches no row.
    for table in TABLES:
        if table in SERVER_ONLY:
            continue
        columns = READABLE_COLUMNS.get(table, "*")
        assert run(db, {"role": "authenticated"}, f"select {columns} from public.{table}") == 0, table


# ----------------------------------------------------------------------------- privileges, from the catalog

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _catalog(db: Database, relkinds: str) -> list[str]:
    with db.service() as conn:
        return [r["name"] for r in conn.execute(
            "select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind = any(%s) order by 1", (list(relkinds),)).fetchall()]


def _expected_table_rights(role: str, table: str) -> set[str]:
    rights = {f"{p}:*" for p, cols in WRITE_POLICY.get(table, {}).items() if cols == {"*"}}
    if role == "authenticated" and table not in SERVER_ONLY and table not in READABLE_COLUMNS:
        rights.add("SELECT")
    return rights


def test_table_privileges_match_the_written_policy(db):
    """Every table, view and foreign table: what anon and authenticated hold is the policy, nothing more."""
    relations = _catalog(db, "rpvmf")
    assert set(SPECS) <= set(relations)
    with db.service() as conn:
        for relation in relations:
            columns = [r["attname"] for r in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 "
                "and not attisdropped", (f"public.{relation}",)).fetchall()]
            for role in API_ROLES:
                held = {p for p in TABLE_PRIVILEGES if conn.execute(
                    "select has_table_privilege(%s, %s, %s) as ok", (role, f"public.{relation}", p)).fetchone()["ok"]}
                assert held == _expected_table_rights(role, relation), (role, relation, held)
                # Column grants (insert/update of single columns, select without the secrets).
                for privilege in ("SELECT", "INSERT", "UPDATE", "REFERENCES"):
                    cols = {c for c in columns if conn.execute(
                        "select has_column_privilege(%s, %s, %s, %s) as ok",
                        (role, f"public.{relation}", c, privilege)).fetchone()["ok"]}
                    allowed = WRITE_POLICY.get(relation, {}).get(privilege, set())
                    if privilege == "SELECT" and role == "authenticated" and relation not in SERVER_ONLY:
                        allowed = set(columns) - UNREADABLE_COLUMNS.get(relation, set())
                    assert cols == allowed, (role, relation, privilege, sorted(cols ^ allowed))


def test_no_sequence_is_usable_by_api_roles(db):
    sequences = _catalog(db, "S")
    assert {"publish_events_id_seq", "platform_quota_usage_id_seq", "analytics_snapshots_id_seq"} <= set(sequences)
    with db.service() as conn:
        for sequence in sequences:
            for role in API_ROLES:
                for privilege in ("USAGE", "SELECT", "UPDATE"):
                    assert not conn.execute("select has_sequence_privilege(%s, %s, %s) as ok",
                                            (role, f"public.{sequence}", privilege)).fetchone()["ok"], \
                        (role, sequence, privilege)


def test_only_the_user_actions_are_executable(db):
    with db.service() as conn:
        functions = conn.execute(
            "select p.oid::regprocedure::text as signature, p.proname as name from pg_proc p "
            "join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'").fetchall()
        assert {f["name"] for f in functions} >= USER_FUNCTIONS
        for function in functions:
            for role in API_ROLES:
                can = conn.execute("select has_function_privilege(%s, %s, 'EXECUTE') as ok",
                                   (role, function["signature"])).fetchone()["ok"]
                expected = role == "authenticated" and function["name"] in USER_FUNCTIONS
                assert can == expected, (role, function["signature"])


def test_setval_and_nextval_are_refused(db, victim):
    """One setval to the maximum would stop every user's publishing (the audit trigger's nextval fails)."""
    for sequence in _catalog(db, "S"):
        for who in (victim.claims, None):
            assert run(db, who, "select setval(%s, 9223372036854775807)", (f"public.{sequence}",)) == DENIED
            assert run(db, who, "select nextval(%s)", (f"public.{sequence}",)) == DENIED
    # The server's writes still number their rows.
    with db.service() as conn:
        conn.execute("insert into publish_events (user_id, platform, event) values (%s, 'youtube', 'note')",
                     (victim.user_id,))


def test_objects_created_later_grant_the_api_roles_nothing(database_url):
    """Default privileges: a table, sequence or function a future migration adds starts closed."""
    with psycopg.connect(database_url) as conn:  # the migration runner's role
        conn.execute("create table public.h2_future (id bigint generated always as identity, note text)")
        conn.execute("create function public.h2_future_fn() returns int language sql as 'select 1'")
        for role in API_ROLES:
            rights = conn.execute(
                "select has_table_privilege(%(r)s, 'public.h2_future', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE') "
                "or has_sequence_privilege(%(r)s, 'public.h2_future_id_seq', 'USAGE,SELECT,UPDATE') "
                "or has_function_privilege(%(r)s, 'public.h2_future_fn()', 'EXECUTE')", {"r": role}).fetchone()
            assert rights == (False,), role
        conn.rollback()
