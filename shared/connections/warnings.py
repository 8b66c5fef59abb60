"""Expiry reminders and the reconnect-by pass; the mails go to the `notifications` outbox (mails.py).

Two mails per expiry at most, each exactly once: a reminder 7 days before a
connection reaches the point where it cannot be renewed without the user
(`refresh_token_expires_at`, the reconnect-by time), and a notice when it expired.
`expiry_warning_sent_for` remembers which reconnect-by time was already announced;
the notification `dedupe_key` makes a second insert of the same event a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.connections import messages
from shared.connections.mails import account_label, enqueue_mail
from shared.connections.store import mark_expired
from shared.db.database import Database
from shared.log import get_logger
from shared.platforms import providers

log = get_logger(__name__)

WARN_BEFORE = timedelta(days=7)


@dataclass
class WarningSummary:
    warned: int = 0
    expired: int = 0


def enqueue_expiry_warnings(db: Database, now: datetime) -> WarningSummary:
    """Mark connections whose reconnect-by time passed as expired; remind those within 7 days."""
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
            enqueue_mail(
                conn,
                user_id=str(row["user_id"]),
                kind="connection_expiring",
                subject=messages.expiring_subject(row["platform"]),
                body=messages.expiring_body(row["platform"], account_label(row),
                                            expires_at.astimezone(UTC).strftime("%d %B %Y")),
                dedupe_key=f"connection-expiring:{row['id']}:{expires_at.isoformat()}",
            )
            conn.execute("update social_connections set expiry_warning_sent_for = %s where id = %s",
                         (expires_at, row["id"]))
            summary.warned += 1
    if summary.warned or summary.expired:
        log.info("connection expiry mails", warned=summary.warned, expired=summary.expired)
    return summary
