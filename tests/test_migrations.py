from pathlib import Path

import psycopg
import pytest

from shared.db import local as localdb
from shared.db import migrate


@pytest.fixture
def empty_db_url(database_url: str):
    admin = localdb.admin_url()
    name = "shortpub_mig_" + Path(database_url).name.split("?")[0][-12:].replace("/", "_")
    url = localdb.create_database(admin, name)
    yield url
    localdb.drop_database(admin, name)


def test_migrations_apply_twice_to_empty_database(empty_db_url: str) -> None:
    first = migrate.apply(empty_db_url)
    assert first == [m.version for m in migrate.discover()]
    assert migrate.apply(empty_db_url) == []
    with psycopg.connect(empty_db_url) as conn:
        count = conn.execute("select count(*) from supabase_migrations.schema_migrations").fetchone()
        assert count is not None and count[0] == len(first)
        rls = conn.execute(
            "select count(*) from pg_tables where schemaname = 'public' and not rowsecurity"
        ).fetchone()
        assert rls == (0,), "every public table must have RLS enabled"


def test_changed_applied_migration_is_refused(empty_db_url: str, tmp_path: Path) -> None:
    source = migrate.discover()[0]
    (tmp_path / f"{source.version}_{source.name}.sql").write_text(source.sql)
    migrate.apply(empty_db_url, directory=tmp_path)
    (tmp_path / f"{source.version}_{source.name}.sql").write_text(source.sql + "\n-- edited\nselect 1;\n")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        migrate.apply(empty_db_url, directory=tmp_path)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("select 1;")
    with pytest.raises(migrate.MigrationError, match="named"):
        migrate.discover(tmp_path)
