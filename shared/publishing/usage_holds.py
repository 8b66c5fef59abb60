"""Platform usage holds shared by every worker instance (Meta's X-App-Usage / X-Business-Use-Case-Usage).

An adapter learns from its answers' headers that the app or one account is near the platform's
limit (`PlatformAdapter.usage_holds`, Meta's `UsageGate`). One instance's memory is not
enough: other instances would keep calling until Meta throttles the app. So after each step the
worker records the holds in `platform_usage_holds`, and before each step every instance reads
them and defers the target until the hold ends, as it does for the budgets (quota.py).
https://developers.facebook.com/docs/graph-api/overview/rate-limiting
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.db.database import Conn
from shared.platforms.base import PlatformAdapter, QuotaRule
from shared.publishing.quota import QuotaDeferral

APP = "app"
CODE = "usage_high"


def record(conn: Conn, platform: str, holds: Mapping[str, timedelta], now: datetime) -> None:
    """Keep the latest end of each hold (a later answer may extend it, never shorten it)."""
    for scope, remaining in holds.items():
        until = now + remaining
        conn.execute(
            "insert into platform_usage_holds (platform, scope, held_until, observed_at) values (%s, %s, %s, %s) "
            "on conflict (platform, scope) do update set held_until = greatest(platform_usage_holds.held_until, "
            "excluded.held_until), observed_at = excluded.observed_at",
            (platform, scope, until, now),
        )


def check(conn: Conn, adapter: PlatformAdapter, account_id: str, now: datetime) -> None:
    """Raise QuotaDeferral while the app or this account is held by any instance's last answer."""
    row = conn.execute(
        "select max(held_until) as until from platform_usage_holds where platform = %s and scope in (%s, %s) "
        "and held_until > %s", (adapter.key, APP, account_id, now)).fetchone()
    if row is None or row["until"] is None:
        return
    message = adapter.usage_hold_message()
    raise QuotaDeferral(QuotaRule(CODE, 0, "account", "per_minute", message), row["until"], message)
