"""Platform budgets, counted before we call so the platform never has to say 429 (NFR-6).

Usage is one row per unit in `platform_quota_usage`; each adapter declares its
budgets as `QuotaRule`s. Two checks use them:

- at scheduling time, `budget_problem` refuses a target that would not fit the
  budget of its day (with a plain message naming the limit), so users learn
  about limits when they plan, not when the post is due;
- at publish time, `reserve` records the unit under an advisory lock just
  before the first irreversible call, or says when the budget frees up;
- before every step, `pace` spends a unit of each per-minute rate the step's
  call is limited by (TikTok: 6 inits, 30 status checks per minute per user),
  or defers the step until the minute has room, so bursts never meet a 429.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.db.database import Conn
from shared.platforms.base import PlatformAdapter, QuotaRule
from shared.publishing.states import TERMINAL

PACIFIC = ZoneInfo("America/Los_Angeles")
_WINDOW = {"rolling_24h": timedelta(hours=24), "per_minute": timedelta(minutes=1)}
RATE_MARGIN = timedelta(seconds=2)


@dataclass(frozen=True)
class QuotaDeferral(Exception):
    rule: QuotaRule
    retry_at: datetime
    message: str


def scope_key(rule: QuotaRule, account_id: str, user_id: str = "") -> str:
    if rule.scope == "user":
        return f"user:{user_id}"
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
        scope = scope_key(rule, account_id, user_id)
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


def rate_scope(rule: QuotaRule, account_id: str) -> str:
    """Per-minute rates count in their own scope, apart from the daily budgets of the account."""
    return f"{scope_key(rule, account_id)}/{rule.name}"


def pace(
    conn: Conn, adapter: type[PlatformAdapter], *, step: str, account_id: str, user_id: str, target_id: str,
    now: datetime, reconciling: bool = False,
) -> None:
    """Spend one unit of every per-minute rate that `step` is limited by, or raise QuotaDeferral.

    Every run of the step spends a unit (a status check is a call each time), counted over
    all targets of the account, so a bulk publish to one account keeps within the rate.
    """
    for rule in adapter.quotas:
        limited = rule.reconcile_steps if reconciling else rule.steps
        if rule.window != "per_minute" or step not in limited:
            continue
        scope = rate_scope(rule, account_id)
        _lock(conn, adapter.key, scope, rule)
        # Our count is taken a moment before the platform sees the call: a margin keeps the
        # platform's own minute from still holding a call our minute already let go.
        since = now - _WINDOW["per_minute"] - RATE_MARGIN
        # Bounded on both sides: a unit stamped after `now` (a clock that is behind, a simulated
        # one) is not in this minute.
        recent = [row["used_at"] for row in conn.execute(
            "select used_at from platform_quota_usage where platform = %s and scope = %s and used_at > %s "
            "and used_at <= %s order by used_at", (adapter.key, scope, since, now)).fetchall()]
        if len(recent) >= rule.limit:
            # When enough of the calls in the window have aged out to leave room for one more.
            freed = recent[len(recent) - rule.limit] + _WINDOW["per_minute"] + RATE_MARGIN
            retry_at = max(freed + timedelta(milliseconds=1), now + timedelta(seconds=1))
            raise QuotaDeferral(rule, retry_at, f"{rule.user_message} It will continue on {describe(retry_at)}.")
        # Rate rows are only useful for a minute; drop this scope's old ones as we go.
        conn.execute("delete from platform_quota_usage where platform = %s and scope = %s and used_at < %s",
                     (adapter.key, scope, now - timedelta(hours=1)))
        conn.execute(
            "insert into platform_quota_usage (platform, scope, user_id, target_id, used_at) "
            "values (%s, %s, %s, %s, %s)",
            (adapter.key, scope, user_id, target_id, now),
        )


def budget_problem(
    conn: Conn, adapter: type[PlatformAdapter], *, account_id: str, at: datetime, extra: int = 1,
    user_id: str = "",
) -> str | None:
    """Would `extra` more publishes at `at` exceed a daily budget? A plain message if so."""
    for rule in adapter.quotas:
        if rule.window == "per_minute" or (rule.scope == "user" and not user_id):
            continue
        scope = scope_key(rule, account_id, user_id)
        start, end = window(rule, at)
        if rule.window == "rolling_24h":
            end = at + timedelta(hours=24)  # count what is planned around the chosen time too
        used = _used(conn, adapter.key, scope, start, end)
        planned = _planned(conn, adapter.key, rule, account_id, start, end, user_id)
        if used + planned + extra > rule.limit and rule.scope == "user":
            return (
                f"{adapter.display_name} uploads are shared by everyone on shortpub, so each person can "
                f"publish up to {rule.limit} a day (days end at midnight Pacific time). You already have "
                f"{used + planned} on {describe(at).split(' at ')[0]}. Please pick another day."
            )
        if used + planned + extra > rule.limit:
            return (
                f"{adapter.display_name} allows {rule.limit} posts per "
                f"{'day' if rule.window == 'daily_pacific' else '24 hours'}"
                f"{'' if rule.scope == 'project' else ' for this account'}, and "
                f"{used + planned} are already planned around {describe(at)}. Please pick another time."
            )
    return None


def _planned(conn: Conn, platform: str, rule: QuotaRule, account_id: str, start: datetime, end: datetime,
             user_id: str = "") -> int:
    """Targets due in the window that have not used their unit yet."""
    account = account_id if rule.scope == "account" else None
    user = user_id if rule.scope == "user" else None
    row = conn.execute(
        "select count(*) as n from publish_targets t join social_connections c on c.id = t.connection_id "
        "where t.platform = %(platform)s and not (t.state = any(%(terminal)s)) "
        "and coalesce(t.scheduled_at, t.created_at) >= %(start)s "
        "and coalesce(t.scheduled_at, t.created_at) < %(end)s "
        "and (%(account)s::text is null or c.platform_account_id = %(account)s) "
        "and (%(user)s::uuid is null or t.user_id = %(user)s::uuid) "
        "and not exists (select 1 from platform_quota_usage u where u.target_id = t.id "
        "and u.platform = %(platform)s and position('/' in u.scope) = 0)",
        {"platform": platform, "start": start, "end": end, "account": account, "user": user,
         "terminal": sorted(TERMINAL)},
    ).fetchone()
    return int(row["n"]) if row else 0


def budgets_left(
    conn: Conn, adapter: type[PlatformAdapter], *, account_id: str, at: datetime, user_id: str = ""
) -> list[dict[str, object]]:
    """Each daily budget of the adapter for one account at `at`: limit, used or planned, left.

    A per-user share is counted only when `user_id` is given (as in `budget_problem`).
    """
    left = []
    for rule in adapter.quotas:
        if rule.window == "per_minute" or (rule.scope == "user" and not user_id):
            continue
        scope = scope_key(rule, account_id, user_id)
        start, end = window(rule, at)
        taken = _used(conn, adapter.key, scope, start, end) + _planned(conn, adapter.key, rule, account_id, start, end,
                                                                        user_id)
        left.append({"name": rule.name, "limit": rule.limit, "window": rule.window, "scope": rule.scope,
                     "used_or_planned": taken, "left": max(rule.limit - taken, 0)})
    return left
