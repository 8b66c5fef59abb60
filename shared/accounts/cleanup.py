"""Finishing a deleted account outside the database: revoke platform grants, remove stored files.

Supabase deletes a user by removing the `auth.users` row; the database cascades to
every table, and the trigger `record_account_cleanup` first writes down in
`account_cleanup` what lives outside it: each connection's encrypted tokens (to revoke
the grant at the platform) and the user's storage prefix (videos, converted copies,
covers, unregistered uploads). The scheduler tick calls `run_account_cleanup`; each
entry is deleted, tokens with it, once done. Transient failures (platform down, 429,
our app's credentials refused, storage errors) are retried with backoff for
`GIVE_UP_AFTER`, then dropped with an ERROR, so no secret stays indefinitely.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.connections import store
from shared.connections.access import AccountAccess
from shared.connections.vault import VaultError
from shared.db.database import Database
from shared.log import get_logger
from shared.platforms.errors import AuthError, PermanentError
from shared.platforms.oauth import OAuthProvider
from shared.storage.base import Storage, StorageError

log = get_logger(__name__)

GIVE_UP_AFTER = timedelta(days=7)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
_USER_PREFIX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$")


@dataclass
class CleanupSummary:
    grants_revoked: int = 0
    objects_removed: int = 0
    retrying: int = 0
    given_up: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class CleanupNotDone(Exception):
    """This entry could not be finished now; try again later."""


def run_account_cleanup(db: Database, storage: Storage, access: AccountAccess, now: datetime, *,
                        limit: int = 50) -> CleanupSummary:
    """Work through the due entries; the scheduler tick calls this every minute."""
    summary = CleanupSummary()
    with db.service() as conn:
        ids = [row["id"] for row in conn.execute(
            "select id from account_cleanup where next_attempt_at <= %s order by next_attempt_at, id limit %s",
            (now, limit)).fetchall()]
    for entry_id in ids:
        _process(db, storage, access, entry_id, now, summary)
    if any(summary.as_dict().values()):
        log.info("account cleanup pass", **summary.as_dict())
    return summary


def _process(db: Database, storage: Storage, access: AccountAccess, entry_id: int, now: datetime,
             summary: CleanupSummary) -> None:
    with db.service() as conn:
        row = conn.execute(
            "select * from account_cleanup where id = %s and next_attempt_at <= %s for update skip locked",
            (entry_id, now)).fetchone()
        if row is None:  # another tick has it, or finished it
            return
        try:
            if row["kind"] == "revoke":
                summary.grants_revoked += _revoke(row, access)
            else:
                summary.objects_removed += _remove_objects(storage, row["storage_prefix"])
        except CleanupNotDone as exc:
            if now - row["created_at"] >= GIVE_UP_AFTER:
                log.error("account cleanup given up", entry_id=entry_id, kind=row["kind"], platform=row["platform"],
                          attempts=row["attempts"] + 1, reason=str(exc))
                summary.given_up += 1
            else:
                wait = min(FIRST_RETRY * 2 ** row["attempts"], LONGEST_WAIT)
                conn.execute("update account_cleanup set attempts = attempts + 1, last_error = %s, "
                             "next_attempt_at = %s where id = %s", (str(exc)[:300], now + wait, entry_id))
                summary.retrying += 1
                return
        conn.execute("delete from account_cleanup where id = %s", (entry_id,))


def _revoke(row: dict[str, Any], access: AccountAccess) -> int:
    """Revoke the grant at the platform: 1 when the platform took it, 0 when there was nothing to revoke."""
    oauth = access.providers(row["platform"])
    if not isinstance(oauth, OAuthProvider):
        return 0  # a Blotato key is the user's own: deleting our copy is all there is to do
    try:
        stored = store.stored_tokens(access.vault, row)
    except VaultError as exc:
        log.error("account cleanup cannot decrypt tokens; nothing to revoke with", platform=row["platform"],
                  error=str(exc))
        return 0
    try:
        sent = oauth.revoke(stored)
    except AuthError:
        return 0  # the grant is already gone at the platform
    except PermanentError as exc:
        log.warning("account cleanup revoke refused", **exc.log_fields())
        return 0
    except Exception as exc:  # transient: platform down, 429, our app's credentials refused
        raise CleanupNotDone(f"revoke at {row['platform']} failed: {getattr(exc, 'code', '') or type(exc).__name__}") \
            from None
    if not sent:
        return 0  # Instagram has no revoke endpoint: the entry ends with our copy of the token
    log.info("account cleanup revoked grant", platform=row["platform"])
    return 1


def _remove_objects(storage: Storage, prefix: str) -> int:
    if not _USER_PREFIX.match(prefix or ""):
        # Never a wider delete than one user's folder.
        log.error("account cleanup refused a storage prefix", prefix=prefix)
        return 0
    try:
        found = storage.list(prefix)
        for item in found:
            storage.delete(item.path)
        left = storage.list(prefix)
    except (StorageError, OSError) as exc:
        raise CleanupNotDone(f"storage: {type(exc).__name__}") from None
    if left:
        raise CleanupNotDone(f"storage: {len(left)} objects still there after deleting")
    return len(found)
