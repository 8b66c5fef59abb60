"""Connection pool and the two kinds of transaction the product uses.

- `user(claims)`: runs as role `authenticated` with the caller's JWT claims set the
  way PostgREST sets them, so every RLS policy applies exactly as on Supabase.
- `service()`: runs as `service_role` for workers and the scheduler.
- `server_writes(conn)`: inside a user's transaction, the writes the API makes for
  them after checking the request (users may write nothing directly).

Prepared statements are off so the Supabase transaction pooler (port 6543) works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Conn = psycopg.Connection[dict[str, Any]]


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "prepare_threshold": None, "autocommit": False},
            open=True,
        )

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _transaction(self, role: str, claims: Mapping[str, Any] | None) -> Iterator[Conn]:
        with self.pool.connection() as conn, conn.transaction():
            # One round trip: `set_config(..., true)` is SET LOCAL, role membership checked as usual.
            conn.execute(
                "select set_config('request.jwt.claims', %s, true), set_config('role', %s, true)",
                (json.dumps(dict(claims)) if claims is not None else "", role),
            )
            yield conn

    @contextmanager
    def user(self, claims: Mapping[str, Any]) -> Iterator[Conn]:
        """A transaction as the signed-in user: RLS decides what it sees and changes."""
        with self._transaction("authenticated", {"role": "authenticated", **claims}) as conn:
            yield conn

    @contextmanager
    def anon(self) -> Iterator[Conn]:
        with self._transaction("anon", {"role": "anon"}) as conn:
            yield conn

    @contextmanager
    def service(self) -> Iterator[Conn]:
        """A transaction for trusted server code (workers, scheduler, OAuth callback)."""
        with self._transaction("service_role", None) as conn:
            yield conn


@contextmanager
def server_writes(conn: Conn) -> Iterator[Conn]:
    """Writes the API makes for a user, inside that user's transaction, once it has checked them.

    Users hold no write privilege on any table (docs/security.md), so a row changes
    only through code that validated the request. Reads before and after stay under
    RLS as the user. On an error the transaction rolls back, and the role with it.
    """
    conn.execute("select set_config('role', 'service_role', true)")
    yield conn
    conn.execute("select set_config('role', 'authenticated', true)")
