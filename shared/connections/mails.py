"""The mails about a connection, written to the `notifications` outbox (the mail sender delivers them).

Each is sent once per event: the notification `dedupe_key` makes a second insert of
the same event a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.connections import messages
from shared.db.database import Conn
from shared.notify.outbox import queue_email


def account_label(row: dict[str, Any]) -> str:
    return str(row.get("username") or row.get("display_name") or row.get("platform_account_id"))


def enqueue_mail(conn: Conn, *, user_id: str, kind: str, subject: str, body: str, dedupe_key: str) -> bool:
    """Into the outbox, unless the user turned this kind of mail off (queue_email checks)."""
    return queue_email(conn, user_id=user_id, kind=kind, subject=subject, body=body, dedupe_key=dedupe_key)


def enqueue_expired_mail(conn: Conn, row: dict[str, Any]) -> bool:
    """One 'your connection expired' mail per credentials generation (a reconnect starts a new one)."""
    generation = row.get("last_refreshed_at") or row.get("created_at")
    generation_key = generation.isoformat() if isinstance(generation, datetime) else str(generation)
    return enqueue_mail(
        conn,
        user_id=str(row["user_id"]),
        kind="connection_expired",
        subject=messages.expired_subject(row["platform"]),
        body=messages.expired_body(row["platform"], account_label(row)),
        dedupe_key=f"connection-expired:{row['id']}:{generation_key}",
    )
