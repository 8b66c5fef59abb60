"""The notifications outbox: mails are rows first, sent later by the scheduler tick.

Queueing happens in the caller's transaction (the same one that changes a post's
state), so a mail exists exactly when its event does. `dedupe_key` is unique: the
same event queued twice is one row, one mail. `drain_outbox` sends each row in its
own short transaction holding the row lock (`for update skip locked`), so two
ticks running at once never send the same mail; a failed send is counted and
retried on the next drain, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.notify.mailer import Mailer

log = get_logger(__name__)

MAX_ATTEMPTS = 5
_MAX_ERROR_CHARS = 500


def queue_email(conn: Conn, *, user_id: str, kind: str, subject: str, body: str, dedupe_key: str) -> bool:
    """Queue a mail to the user's account address. True if new, False if this event was already queued.

    A user without an email address (phone sign-in) gets no mail: False, logged. So does a
    user whose preferences turn this kind of mail off (shared/notify/preferences.py).
    """
    # Imported here: preferences.py imports this module at load (a cycle).
    from shared.notify.preferences import wants

    if not wants(conn, user_id, kind):
        log.info("notification_not_wanted", user_id=user_id, kind=kind)
        return False
    row = conn.execute(
        """
        insert into public.notifications (user_id, kind, to_email, subject, body, dedupe_key)
        select u.id, %s, u.email, %s, %s, %s from auth.users u
         where u.id = %s and coalesce(u.email, '') <> ''
        on conflict (dedupe_key) do nothing
        returning id
        """,
        (kind, subject, body, dedupe_key, user_id),
    ).fetchone()
    if row is None:
        exists = conn.execute("select 1 from public.notifications where dedupe_key = %s", (dedupe_key,)).fetchone()
        if exists is None:
            log.warning("notification_without_email", user_id=user_id, kind=kind)
        return False
    log.info("notification_queued", user_id=user_id, kind=kind, notification_id=str(row["id"]))
    return True


_CLAIM = """
select id, user_id, kind, to_email, subject, body, attempts
  from public.notifications
 where sent_at is null and attempts < %s and not (id = any(%s::uuid[]))
 order by created_at
 limit 1
 for update skip locked
"""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS]


def drain_outbox(db: Database, mailer: Mailer, *, now: datetime, limit: int = 100) -> int:
    """Send up to `limit` unsent mails; return how many were sent.

    Each mail is tried at most once per drain. `now` stamps `sent_at` (tests pass a fixed clock).
    """
    sent = 0
    tried: list[Any] = []
    while len(tried) < limit:
        with db.service() as conn:
            row = conn.execute(_CLAIM, (MAX_ATTEMPTS, tried)).fetchone()
            if row is None:
                break
            tried.append(row["id"])
            try:
                mailer.send(
                    to=row["to_email"], subject=row["subject"], body=row["body"],
                    message_id=f"<{row['id']}@shortpub>",
                )
            except Exception as exc:  # any failure to hand over counts as one attempt
                attempts = row["attempts"] + 1
                conn.execute(
                    "update public.notifications set attempts = %s, last_error = %s where id = %s",
                    (attempts, _describe(exc), row["id"]),
                )
                level = log.error if attempts >= MAX_ATTEMPTS else log.warning
                level(
                    "notification_send_failed", notification_id=str(row["id"]), kind=row["kind"],
                    attempts=attempts, gave_up=attempts >= MAX_ATTEMPTS, error=type(exc).__name__,
                )
                continue
            conn.execute(
                "update public.notifications set sent_at = %s, attempts = attempts + 1, last_error = null "
                "where id = %s",
                (now, row["id"]),
            )
            sent += 1
            log.info("notification_sent", notification_id=str(row["id"]), kind=row["kind"])
    return sent
