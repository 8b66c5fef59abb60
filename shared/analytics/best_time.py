"""`publish_at: "best"`: the next slot the user's own results recommend, within the budgets (US-1.3).

Resolved before a post is planned, so everything after it (checks, budgets, scheduling)
sees an ordinary time. Where the evidence is too thin for a recommendation, the request
is refused with the reason instead of guessing a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.analytics import history, recommend
from shared.analytics.settings import AnalyticsSettings
from shared.config import load
from shared.errors import InvalidInput
from shared.platforms import adapters
from shared.publishing import quota
from shared.publishing.runtime import Runtime
from shared.users import User

BEST = "best"


def resolve_best_times(rt: Runtime, user: User, request: Any, now: datetime) -> Any:
    """The request with every target's `publish_at: "best"` replaced by the recommended slot."""
    if not any(target.publish_at == BEST for target in request.targets):
        return request
    settings = load(AnalyticsSettings)
    limits = recommend.Thresholds(settings.recommend_min_posts, settings.recommend_min_group_posts,
                                  settings.significance)
    with rt.db.user(user.claims) as conn:
        found = history.outcomes(conn)
    targets = []
    for target in request.targets:
        if target.publish_at != BEST:
            targets.append(target)
            continue
        candidates = [cls for cls in adapters().values() if target.platform in (cls.key, cls.network)]
        network = candidates[0].network if candidates else target.platform
        zone = target.timezone or request.timezone

        def fits(at: datetime, candidates: list[Any] = candidates, target: Any = target) -> bool:
            return _fits(rt, user, candidates, target, at)

        slot = recommend.next_best_slot(found, network, zone, now, limits, fits=fits)
        if slot is None:
            name = next((c.display_name for c in candidates if c.key == c.network), network)
            raise InvalidInput(f"We can't pick the best time on {name} yet: that needs at least "
                               f"{settings.recommend_min_posts} of your posts there with numbers and a clear "
                               "difference between hours. Please choose a time for this post.", code="no_best_time",
                               detail=[{"field": "targets.publish_at", "code": "no_best_time",
                                        "platform": target.platform}])
        targets.append(target.model_copy(update={"publish_at": slot}))
    return request.model_copy(update={"targets": targets})


def _fits(rt: Runtime, user: User, candidates: list[Any], target: Any, at: datetime) -> bool:
    """Whether one more publish at `at` stays within the platform's daily budgets for this account."""
    keys = [c.key for c in candidates]
    with rt.db.service() as conn:
        account = conn.execute(
            "select platform, platform_account_id from social_connections where user_id = %s and platform = any(%s) "
            "and (%s::uuid is null or id = %s::uuid) and status = 'connected' order by created_at limit 1",
            (user.id, keys, target.connection_id, target.connection_id)).fetchone()
        if account is None:
            return True  # planning refuses the missing connection with its own message
        adapter = adapters()[account["platform"]]
        return quota.budget_problem(conn, adapter, account_id=account["platform_account_id"], at=at,
                                    user_id=user.id) is None
