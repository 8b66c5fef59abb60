"""Which mails a user wants: per kind of mail, 'all', 'failures' or 'none'.

Kinds: `publishing` (published, failed, deferred), `connections` (expiring, expired)
and `webhooks` (an endpoint was turned off). 'failures' keeps the mails about
something that went wrong or needs the user and drops the good news (a published
video); connection and webhook mails are all of that sort. No stored row means 'all'.
`queue_email` honours these, so every mail does.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from shared.db.database import Conn, Database, server_writes
from shared.notify import templates
from shared.responses import NotificationLevel, NotificationLevels, NotificationPreferences

CATEGORIES = tuple(NotificationLevels.model_fields)  # publishing, connections, webhooks
DEFAULTS: dict[str, str] = {category: "all" for category in CATEGORIES}

# mail kind -> (category, is it about a problem?)
KIND_CATEGORY: dict[str, tuple[str, bool]] = {
    templates.POST_PUBLISHED: ("publishing", False),
    templates.POST_FAILED: ("publishing", True),
    templates.POST_DEFERRED: ("publishing", True),
    templates.CONNECTION_EXPIRING: ("connections", True),
    templates.CONNECTION_EXPIRED: ("connections", True),
    templates.RECONNECT_FOR_EXACT_TIME: ("connections", True),
    templates.WEBHOOK_DISABLED: ("webhooks", True),
}


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publishing: NotificationLevel | None = Field(default=None, description="Published, failed and delayed videos")
    connections: NotificationLevel | None = Field(default=None, description="Accounts about to expire or expired")
    webhooks: NotificationLevel | None = Field(default=None, description="A webhook endpoint was turned off")


def _row(conn: Conn, user_id: str) -> dict[str, str]:
    row = conn.execute("select publishing, connections, webhooks from notification_preferences where user_id = %s",
                       (user_id,)).fetchone()
    return {**DEFAULTS, **(dict(row) if row else {})}


def wants(conn: Conn, user_id: str, kind: str) -> bool:
    """Does the user want a mail of this kind? Unknown kinds are always sent."""
    if kind not in KIND_CATEGORY:
        return True
    category, problem = KIND_CATEGORY[kind]
    level = _row(conn, user_id)[category]
    return level == "all" or (level == "failures" and problem)


def read(db: Database, claims: dict[str, Any]) -> NotificationPreferences:
    with db.user(claims) as conn:
        return _view(_row(conn, str(claims["sub"])))


def update(db: Database, claims: dict[str, Any], body: PreferencesUpdate) -> NotificationPreferences:
    changes = body.model_dump(exclude_none=True)
    user_id = str(claims["sub"])
    with db.user(claims) as conn:
        merged = {**_row(conn, user_id), **changes}
        with server_writes(conn):
            conn.execute(
                "insert into notification_preferences (user_id, publishing, connections, webhooks) "
                "values (%(user_id)s, %(publishing)s, %(connections)s, %(webhooks)s) "
                "on conflict (user_id) do update set publishing = excluded.publishing, "
                "connections = excluded.connections, webhooks = excluded.webhooks",
                {"user_id": user_id, **merged},
            )
        return _view(merged)


def _view(levels: dict[str, str]) -> NotificationPreferences:
    return NotificationPreferences(preferences=NotificationLevels.model_validate(
        {category: levels[category] for category in CATEGORIES}), levels=list(get_args(NotificationLevel)))
