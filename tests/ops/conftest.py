"""A migrated database of its own for the ops tests, so alert values depend only on what a test seeds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.db import Database, migrate
from shared.db import local as localdb


@pytest.fixture(scope="module")
def own_db(db) -> Iterator[Database]:
    admin = localdb.admin_url()
    name = f"shortpub_ops_{uuid.uuid4().hex[:10]}"
    url = localdb.create_database(admin, name)
    migrate.apply(url)
    database = Database(url, min_size=1, max_size=3)
    yield database
    database.close()
    localdb.drop_database(admin, name)
