"""Apply supabase/migrations/*.sql in order, the way the Supabase CLI records them.

Applied versions live in `supabase_migrations.schema_migrations` (version, name,
statements), the CLI's own table, so `supabase db push` and this runner agree.
A file whose content changed after it was applied is refused: write a new
migration instead. Locally, `supabase/local/supabase_compat.sql` first recreates
what Supabase provides (auth schema, roles, grants).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from shared.db.local import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
COMPAT_SQL = PROJECT_ROOT / "supabase" / "local" / "supabase_compat.sql"
_NAME = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
_LOCK_ID = 7_305_114_502  # any constant: serializes concurrent runners
_COMPAT_LOCK_ID = 7_305_114_503  # the local stand-in's server-wide objects (roles)


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named <14-digit timestamp>_<name>.sql")
        found.append(Migration(match.group(1), match.group(2), path.read_text()))
    return found


def _apply_compat(url: str, conn: psycopg.Connection[Any]) -> None:
    """Run the local Supabase stand-in SQL, one database at a time across the whole server.

    It creates roles, which belong to the server, not to one database: two test workers
    migrating their own databases at once would both create `anon`. Advisory locks are
    per database, so the lock is taken in the server's `postgres` database, which every
    migrating process shares.
    """
    from shared.db.local import with_dbname

    with psycopg.connect(with_dbname(url, "postgres"), autocommit=True) as server:
        server.execute("select pg_advisory_lock(%s)", (_COMPAT_LOCK_ID,))
        try:
            conn.execute(COMPAT_SQL.read_text())  # type: ignore[arg-type]
        finally:
            server.execute("select pg_advisory_unlock(%s)", (_COMPAT_LOCK_ID,))


def apply(url: str, *, local: bool = True, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            if local:
                _apply_compat(url, conn)
            conn.execute("create schema if not exists supabase_migrations")
            conn.execute(
                "create table if not exists supabase_migrations.schema_migrations "
                "(version text primary key, statements text[], name text)"
            )
            rows = conn.execute("select version, statements from supabase_migrations.schema_migrations").fetchall()
            done = {version: "".join(statements or []) for version, statements in rows}
            for migration in discover(directory):
                if migration.version in done:
                    if done[migration.version].strip() != migration.sql.strip():
                        raise MigrationError(
                            f"migration {migration.version}_{migration.name}.sql was changed after it was "
                            "applied; add a new migration instead of editing an applied one"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)  # type: ignore[arg-type]
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations (version, statements, name) "
                        "values (%s, %s, %s)",
                        (migration.version, [migration.sql], migration.name),
                    )
                applied_now.append(migration.version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
