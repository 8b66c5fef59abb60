"""Database access: a pool, user-scoped transactions (RLS applies) and service transactions."""

from shared.db.database import Database

__all__ = ["Database"]
