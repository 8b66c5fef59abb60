"""Database access: a pool, user-scoped transactions (RLS applies) and service transactions."""

from shared.db.database import Database, database, set_database

__all__ = ["Database", "database", "set_database"]
