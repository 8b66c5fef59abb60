"""Recommendations from the user's own history (US-4.2, US-1.3): when, where and how to post.

Each recommendation is computed from the user's published posts at the comparison
age (72 h, see history.py), per platform network and account, and carries its
evidence (posts behind it, test, p-value, effect size). One that the evidence does
not support is withheld with the reason ("not enough data yet: 12 posts, 20 needed").

- best hours / weekday: by views at 72 h (reach follows when the audience is active),
  in the user's time zone; hours are grouped in 3-hour windows (00-03, 03-06, ...),
  because "18:00" and "19:00" are the same audience and 24 single hours would need
  eight times the posts to tell apart;
- best platform: by engagement rate (views differ by audience size, engagement by fit);
- caption length and hashtag count: by engagement rate, in a few buckets;
- hashtags: those whose posts beat the user's median engagement rate on that platform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.analytics.history import Outcome
from shared.analytics.stats import compare_groups, groups_differ, midpoint
from shared.responses import (
    AccountRecommendations,
    Evidence,
    HashtagLift,
    HashtagVerdict,
    Recommendations,
    RecommendationsView,
    Verdict,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CAPTION_BUCKETS = ((0, 80, "short (up to 80 characters)"), (81, 200, "medium (81-200 characters)"),
                   (201, 10**9, "long (over 200 characters)"))
HOUR_WINDOW = 3
HASHTAG_BUCKETS = ((0, 0, "no hashtags"), (1, 2, "1-2 hashtags"), (3, 5, "3-5 hashtags"), (6, 10**6, "6 or more"))


@dataclass(frozen=True)
class Thresholds:
    min_posts: int            # posts with numbers before anything is recommended
    min_group_posts: int      # posts in the winning group (an hour, a bucket, a platform)
    alpha: float              # significance level of every test


def network_of(platform: str) -> str:
    from shared.platforms import adapter_class

    try:
        return adapter_class(platform).network
    except KeyError:
        return platform


def _withheld(reason: str) -> Verdict:
    return Verdict(status="withheld", reason=reason)


def _best_of(groups: dict[Any, list[float]], limits: Thresholds, describe: Callable[[Any], str]) -> Verdict:
    """The group whose posts beat the others, if the numbers say so.

    The groups must differ at all (Kruskal-Wallis) before the best one is tested against
    the rest: picking the best of many and testing only it would find a "best" in noise.
    """
    posts = sum(len(v) for v in groups.values())
    if posts < limits.min_posts:
        return _withheld(f"Not enough data yet: {posts} posts with numbers, {limits.min_posts} needed.")
    candidates = {k: v for k, v in groups.items() if len(v) >= limits.min_group_posts}
    if not candidates:
        return _withheld(f"Not enough data yet: no single choice has {limits.min_group_posts} posts.")
    differ, p_any = groups_differ(list(groups.values()), limits.alpha)
    best = max(candidates, key=lambda k: (midpoint(candidates[k]) or 0.0, len(candidates[k])))
    rest = [v for k, values in groups.items() if k != best for v in values]
    if not differ or not rest:
        return Verdict(status="withheld", reason="Your posts do well at every choice alike: no clear best yet.",
                       evidence=Evidence(test="kruskal-wallis", posts=posts, p_value=round(p_any, 4)))
    evidence = compare_groups(candidates[best], rest, limits.alpha)
    if not evidence.significant:
        return Verdict(status="withheld", reason=f"{describe(best)} looks best, but not clearly enough yet.",
                       evidence=evidence.as_model())
    return Verdict(status="recommended", value=best, label=describe(best),
                   median=round(midpoint(candidates[best]) or 0.0, 4), median_rest=round(midpoint(rest) or 0.0, 4),
                   evidence=evidence.as_model())


def _bucket(value: int, buckets: tuple[tuple[int, int, str], ...]) -> str:
    for low, high, label in buckets:
        if low <= value <= high:
            return label
    raise ValueError(f"{value} is in no bucket")


def for_outcomes(found: Sequence[Outcome], zone: str, limits: Thresholds) -> Recommendations:
    """Recommendations for one group of posts (one platform network, or one account)."""
    tz = ZoneInfo(zone)
    by_hour: dict[int, list[float]] = defaultdict(list)
    by_day: dict[int, list[float]] = defaultdict(list)
    by_caption: dict[str, list[float]] = defaultdict(list)
    by_tags: dict[str, list[float]] = defaultdict(list)
    for o in found:
        local = o.published_at.astimezone(tz)
        by_hour[local.hour - local.hour % HOUR_WINDOW].append(o.views)
        by_day[local.weekday()].append(o.views)
        by_caption[_bucket(len(o.caption), CAPTION_BUCKETS)].append(o.engagement_rate)
        by_tags[_bucket(len(o.hashtags), HASHTAG_BUCKETS)].append(o.engagement_rate)

    return Recommendations(
        posts=len(found),
        best_hour=_best_of(dict(by_hour), limits, lambda h: f"{h:02d}:00-{(h + HOUR_WINDOW) % 24:02d}:00"),
        best_weekday=_best_of(dict(by_day), limits, lambda d: WEEKDAYS[d]),
        caption_length=_best_of(dict(by_caption), limits, str),
        hashtag_count=_best_of(dict(by_tags), limits, str),
        hashtags=strong_hashtags(found, limits),
    )


def strong_hashtags(found: Sequence[Outcome], limits: Thresholds, network: str | None = None) -> HashtagVerdict:
    """Hashtags whose posts beat the median engagement rate, each with at least `min_group_posts` posts."""
    rates = [o.engagement_rate for o in found]
    overall = midpoint(rates)
    if overall is None or len(found) < limits.min_posts:
        return HashtagVerdict(status="withheld", reason=f"Not enough data yet: {len(found)} posts with numbers, "
                                                        f"{limits.min_posts} needed.")
    tagged: dict[str, list[float]] = defaultdict(list)
    for o in found:
        for tag in {t.lstrip("#").lower() for t in o.hashtags}:
            tagged[tag].append(o.engagement_rate)
    strong: list[HashtagLift] = []
    for tag, values in tagged.items():
        value = midpoint(values)
        if len(values) >= limits.min_group_posts and value is not None and value > overall:
            strong.append(HashtagLift(hashtag=f"#{tag}", posts=len(values), median_engagement_rate=round(value, 4),
                                      lift=round(value / overall - 1, 3) if overall else None))
    strong.sort(key=lambda s: (-s.median_engagement_rate, s.hashtag))
    return HashtagVerdict(status="recommended" if strong else "withheld",
                          median_engagement_rate=round(overall, 4), items=strong[:10],
                          reason=None if strong else "No hashtag has done clearly better than your usual posts yet.")


def recommendations(found: Sequence[Outcome], zone: str, limits: Thresholds,
                    compared_at_age: str) -> RecommendationsView:
    """Per platform network and per account, plus the best platform across them."""
    by_network: dict[str, list[Outcome]] = defaultdict(list)
    by_account: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in found:
        network = network_of(o.platform)
        by_network[network].append(o)
        by_account[(network, o.connection_id)].append(o)
    platforms = {network: for_outcomes(items, zone, limits) for network, items in sorted(by_network.items())}
    # An account that is the network's only one has the network's answer: no second round of tests.
    accounts = [AccountRecommendations(platform=network, connection_id=cid, account=items[0].account,
                                       **dict(platforms[network] if len(items) == len(by_network[network]) else
                                              for_outcomes(items, zone, limits)))
                for (network, cid), items in sorted(by_account.items())]
    return RecommendationsView(compared_at_age=compared_at_age, timezone=zone, posts=len(found),
                               best_platform=_best_platform(by_network, limits), platforms=platforms,
                               accounts=accounts)


def best_platform(found: Sequence[Outcome], limits: Thresholds) -> Verdict:
    """The platform network whose posts engage best, if the numbers say so (the comparison's verdict)."""
    by_network: dict[str, list[Outcome]] = defaultdict(list)
    for o in found:
        by_network[network_of(o.platform)].append(o)
    return _best_platform(by_network, limits)


def _best_platform(by_network: dict[str, list[Outcome]], limits: Thresholds) -> Verdict:
    return _best_of({n: [o.engagement_rate for o in items] for n, items in by_network.items()}, limits, str)


def next_best_slot(found: Sequence[Outcome], network: str, zone: str, after: datetime, limits: Thresholds,
                   fits: Callable[[datetime], bool] | None = None) -> datetime | None:
    """The next start of the recommended hour for `network` after `after` that fits the budgets, if any."""
    items = [o for o in found if network_of(o.platform) == network]
    best = for_outcomes(items, zone, limits).best_hour
    if best.status != "recommended" or not isinstance(best.value, int):
        return None
    hour = best.value
    tz = ZoneInfo(zone)
    local = after.astimezone(tz)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    for _ in range(31):
        if slot > local and (fits is None or fits(slot)):
            return slot
        slot = (slot + timedelta(days=1)).replace(hour=hour)
    return None
