"""Platform budgets, counted before we call so the platform never has to say 429 (NFR-6).

Usage is one row per unit in `platform_quota_usage`; each adapter declares its
budgets as `QuotaRule`s. Two checks use them:

- at scheduling time, `budget_problem` refuses a target that would not fit the
  budget of its day (with a plain message naming the limit), so users learn
  about limits when they plan, not when the post is due;
- at publish time, `reserve` records the unit under an advisory lock just
  before the first irreversible call, or says when the budget frees up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.db.database import Conn
from shared.platforms.base import PlatformAdapter, QuotaRule

PACIFIC = ZoneInfo("America/Los_Angeles")
_WINDOW = {"rolling_24h": timedelta(hours=24), "per_minute": timedelta(minutes=1)}


@dataclass(frozen=True)
class QuotaDeferral(Exception):
    rule: QuotaRule
    retry_at: datetime
    message: str


def scope_key(rule: QuotaRule, account_id: str) -> str:
    return "project" if rule.scope == "project" else f"account:{account_id}"


def window(rule: QuotaRule, at: datetime) -> tuple[datetime, datetime]:
    """The budget window that `at` falls in."""
    if rule.window == "daily_pacific":
        local = at.astimezone(PACIFIC)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, (start + timedelta(days=1)).replace(tzinfo=PACIFIC)
    span = _WINDOW[rule.window]
    return at - span, at


def _lock(conn: Conn, platform: str, scope: str, rule: QuotaRule) -> None:
    digest = hashlib.sha256(f"{platform}|{scope}|{rule.name}".encode()).digest()
    conn.execute("select pg_advisory_xact_lock(%s)", (int.from_bytes(digest[:8], "big", signed=True),))


def _used(conn: Conn, platform: str, scope: str, start: datetime, end: datetime) -> int:
    row = conn.execute(
        "select coalesce(sum(units), 0) as used from platform_quota_usage "
        "where platform = %s and scope = %s and used_at >= %s and used_at < %s",
        (platform, scope, start, end),
    ).fetchone()
    return int(row["used"]) if row else 0


def _frees_up_at(conn: Conn, rule: QuotaRule, platform: str, scope: str, now: datetime) -> datetime:
    if rule.window == "daily_pacific":
        return window(rule, now)[1]
    start, end = window(rule, now)
    row = conn.execute(
        "select min(used_at) as oldest from platform_quota_usage "
        "where platform = %s and scope = %s and used_at >= %s and used_at < %s",
        (platform, scope, start, end),
    ).fetchone()
    oldest = row["oldest"] if row and row["oldest"] else now
    return max(oldest + _WINDOW[rule.window], now + timedelta(seconds=1))


def describe(when: datetime) -> str:
    """A time as users read it in messages ("Nov 24 at 8:00 UTC")."""
    return when.astimezone(ZoneInfo("UTC")).strftime("%b %d at %H:%M UTC").replace(" 0", " ")


def reserve(
    conn: Conn, adapter: type[PlatformAdapter], *, account_id: str, user_id: str, target_id: str, now: datetime
) -> None:
    """Take one unit of every budget for this target, or raise QuotaDeferral.

    Idempotent per target: a redelivered task does not count twice.
    """
    for rule in adapter.quotas:
        if rule.window == "per_minute":
            continue  # per-minute rates are enforced by the queue's dispatch rate
        scope = scope_key(rule, account_id)
        _lock(conn, adapter.key, scope, rule)
        taken = conn.execute(
            "select 1 from platform_quota_usage where platform = %s and scope = %s and target_id = %s",
            (adapter.key, scope, target_id),
        ).fetchone()
        if taken:
            continue
        start, end = window(rule, now)
        if _used(conn, adapter.key, scope, start, end) >= rule.limit:
            retry_at = _frees_up_at(conn, rule, adapter.key, scope, now)
            raise QuotaDeferral(rule, retry_at, f"{rule.user_message} It will publish on {describe(retry_at)}.")
        conn.execute(
            "insert into platform_quota_usage (platform, scope, user_id, target_id, used_at) "
            "values (%s, %s, %s, %s, %s)",
            (adapter.key, scope, user_id, target_id, now),
        )


def budget_problem(
    conn: Conn, adapter: type[PlatformAdapter], *, account_id: str, at: datetime, extra: int = 1
) -> str | None:
    """Would `extra` more publishes at `at` exceed a daily budget? A plain message if so."""
    for rule in adapter.quotas:
        if rule.window == "per_minute":
            continue
        scope = scope_key(rule, account_id)
        start, end = window(rule, at)
        if rule.window == "rolling_24h":
            end = at + timedelta(hours=24)  # count what is planned around the chosen time too
        used = _used(conn, adapter.key, scope, start, end)
        planned = _planned(conn, adapter.key, rule, account_id, start, end)
        if used + planned + extra > rule.limit:
            return (
                f"{adapter.display_name} allows {rule.limit} posts per "
                f"{'day' if rule.window == 'daily_pacific' else '24 hours'}"
                f"{'' if rule.scope == 'project' else ' for this account'}, and "
                f"{used + planned} are already planned around {describe(at)}. Please pick another time."
            )
    return None


def _planned(conn: Conn, platform: str, rule: QuotaRule, account_id: str, start: datetime, end: datetime) -> int:
    """Targets due in the window that have not used their unit yet."""
    account = account_id if rule.scope == "account" else None
    row = conn.execute(
        "select count(*) as n from publish_targets t join social_connections c on c.id = t.connection_id "
        "where t.platform = %(platform)s and t.state not in ('published', 'failed', 'canceled') "
        "and coalesce(t.scheduled_at, t.created_at) >= %(start)s "
        "and coalesce(t.scheduled_at, t.created_at) < %(end)s "
        "and (%(account)s::text is null or c.platform_account_id = %(account)s) "
        "and not exists (select 1 from platform_quota_usage u where u.target_id = t.id and u.platform = %(platform)s)",
        {"platform": platform, "start": start, "end": end, "account": account},
    ).fetchone()
    return int(row["n"]) if row else 0


def budgets_left(
    conn: Conn, adapter: type[PlatformAdapter], *, account_id: str, at: datetime
) -> list[dict[str, object]]:
    """Each daily budget of the adapter for one account at `at`: limit, used or planned, left."""
    left = []
    for rule in adapter.quotas:
        if rule.window == "per_minute":
            continue
        scope = scope_key(rule, account_id)
        start, end = window(rule, at)
        taken = _used(conn, adapter.key, scope, start, end) + _planned(conn, adapter.key, rule, account_id, start, end)
        left.append({"name": rule.name, "limit": rule.limit, "window": rule.window, "scope": rule.scope,
                     "used_or_planned": taken, "left": max(rule.limit - taken, 0)})
    return left
