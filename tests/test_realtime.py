"""Supabase Realtime: the tables a frontend watches are in the `supabase_realtime` publication.

Realtime streams the changes of the publication's tables to subscribers whose RLS
select policy lets them see the row; token ciphertexts must never be in the stream.
"""

from __future__ import annotations

from shared.db import Database


def _published(db: Database) -> dict[str, list[str]]:
    with db.service() as conn:
        rows = conn.execute("select tablename, attnames from pg_publication_tables "
                            "where pubname = 'supabase_realtime' and schemaname = 'public'").fetchall()
    return {row["tablename"]: list(row["attnames"]) for row in rows}


def test_targets_posts_and_connections_are_published_for_realtime(db) -> None:
    published = _published(db)
    assert {"publish_targets", "posts", "social_connections"} <= set(published)
    assert {"state", "platform_url", "user_message", "user_id"} <= set(published["publish_targets"])
    assert {"caption", "user_id"} <= set(published["posts"])
    with db.service() as conn:
        options = conn.execute("select pubinsert, pubupdate, pubdelete from pg_publication "
                               "where pubname = 'supabase_realtime'").fetchone()
    assert options == {"pubinsert": True, "pubupdate": True, "pubdelete": True}


def test_connection_changes_never_carry_token_ciphertexts(db) -> None:
    columns = _published(db)["social_connections"]
    assert {"status", "status_reason", "access_token_expires_at", "user_id"} <= set(columns)
    assert not [c for c in columns if c.endswith("_ciphertext")]


def test_every_published_table_has_rls_so_realtime_filters_by_user(db) -> None:
    with db.service() as conn:
        rows = conn.execute(
            "select c.relname, c.relrowsecurity, exists (select 1 from pg_policies p where p.tablename = c.relname "
            "and p.cmd in ('SELECT', 'ALL') and 'authenticated' = any(p.roles)) as readable_by_owner "
            "from pg_publication_tables t join pg_class c on c.relname = t.tablename "
            "join pg_namespace n on n.oid = c.relnamespace and n.nspname = t.schemaname "
            "where t.pubname = 'supabase_realtime'").fetchall()
    assert rows and all(row["relrowsecurity"] and row["readable_by_owner"] for row in rows), rows
