"""Shared fixtures: a fresh real PostgreSQL database per test session.

Without DATABASE_URL the embedded PostgreSQL in .local/ is started. Each pytest
process (or xdist worker) gets its own database, migrated from scratch, and drops
it at the end. Tests isolate by creating their own users (random ids), so no
truncation is needed between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("ENVIRONMENT", "test")

from shared.db import Database, set_database  # noqa: E402
from shared.db import local as localdb  # noqa: E402
from shared.db import migrate  # noqa: E402


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin = localdb.admin_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"shortpub_test_{worker}_{os.getpid()}"
    url = localdb.create_database(admin, name)
    migrate.apply(url, local=True)
    yield url
    localdb.drop_database(admin, name)


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, min_size=1, max_size=8)
    set_database(database)
    yield database
    set_database(None)
    database.close()


def make_user(db: Database, email: str | None = None) -> dict[str, str]:
    user_id = str(uuid.uuid4())
    email = email or f"{user_id[:8]}@example.test"
    with db.service() as conn:
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, email))
    return {"sub": user_id, "email": email, "role": "authenticated", "aud": "authenticated"}


@pytest.fixture
def user_a(db: Database) -> dict[str, str]:
    return make_user(db)


@pytest.fixture
def user_b(db: Database) -> dict[str, str]:
    return make_user(db)
