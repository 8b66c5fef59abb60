"""Expiry mails, written to the `notifications` outbox (the mail sender delivers them).

Two mails per expiry at most, each exactly once: a reminder 7 days before a
connection reaches the point where it cannot be renewed without the user
(`refresh_token_expires_at`, the reconnect-by time), and a notice when it expired.
`expiry_warning_sent_for` remembers which reconnect-by time was already announced;
the notification `dedupe_key` makes a second insert of the same event a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.connections import messages
from shared.connections.oauth import providers
from shared.db.database import Conn, Database
from shared.log import get_logger

log = get_logger(__name__)

WARN_BEFORE = timedelta(days=7)


@dataclass
class WarningSummary:
    warned: int = 0
    expired: int = 0


def _account_label(row: dict[str, Any]) -> str:
    return str(row.get("username") or row.get("display_name") or row.get("platform_account_id"))


def _enqueue(conn: Conn, *, user_id: str, kind: str, subject: str, body: str, dedupe_key: str) -> bool:
    from shared.notify.outbox import queue_email  # honours the user's mail preferences

    return queue_email(conn, user_id=user_id, kind=kind, subject=subject, body=body, dedupe_key=dedupe_key)


def enqueue_expired_mail(conn: Conn, row: dict[str, Any]) -> bool:
    """One 'your connection expired' mail per credentials generation (a reconnect starts a new one)."""
    generation = row.get("last_refreshed_at") or row.get("created_at")
    generation_key = generation.isoformat() if isinstance(generation, datetime) else str(generation)
    return _enqueue(
        conn,
        user_id=str(row["user_id"]),
        kind="connection_expired",
        subject=messages.expired_subject(row["platform"]),
        body=messages.expired_body(row["platform"], _account_label(row)),
        dedupe_key=f"connection-expired:{row['id']}:{generation_key}",
    )


def enqueue_expiry_warnings(db: Database, now: datetime) -> WarningSummary:
    """Mark connections whose reconnect-by time passed as expired; remind those within 7 days."""
    from shared.connections.store import mark_expired

    summary = WarningSummary()
    dying = [key for key, cls in providers().items() if cls.DIES_AT_RECONNECT_BY]
    with db.service() as conn:
        past = conn.execute(
            "select id from social_connections where status = 'connected' and platform = any(%s) "
            "and refresh_token_expires_at <= %s",
            (dying, now),
        ).fetchall()
    for row in past:
        if mark_expired(db, str(row["id"]), "reconnect_by_passed"):
            summary.expired += 1

    with db.service() as conn:
        due = conn.execute(
            """
            select * from social_connections
             where status = 'connected' and refresh_token_expires_at > %s
               and refresh_token_expires_at <= %s
               and expiry_warning_sent_for is distinct from refresh_token_expires_at
             for update skip locked
            """,
            (now, now + WARN_BEFORE),
        ).fetchall()
        for row in due:
            expires_at: datetime = row["refresh_token_expires_at"]
            _enqueue(
                conn,
                user_id=str(row["user_id"]),
                kind="connection_expiring",
                subject=messages.expiring_subject(row["platform"]),
                body=messages.expiring_body(row["platform"], _account_label(row),
                                            expires_at.astimezone(UTC).strftime("%d %B %Y")),
                dedupe_key=f"connection-expiring:{row['id']}:{expires_at.isoformat()}",
            )
            conn.execute("update social_connections set expiry_warning_sent_for = %s where id = %s",
                         (expires_at, row["id"]))
            summary.warned += 1
    if summary.warned or summary.expired:
        log.info("connection expiry mails", warned=summary.warned, expired=summary.expired)
    return summary
