"""Plausible, deterministic audience numbers for the simulators' metrics endpoints.

Not a platform module (no `register`). Each post gets its own rates from a hash of
its id, and its counts grow with the post's age, so two reads of the same post never
go down and two posts differ. `sb.config["metrics_age_offset_seconds"]` ages every
post at once, so tests can look a day or a week ahead without waiting.

The audience also follows a planted model (`PLANTED`): more views for posts that go
live near the planted best hour (UTC), more engagement on the planted best platform
and for short captions, and a lift for a planted A/B variant. The noise is the
per-post hash, so the truth is known to the tests while no single post shows it
plainly: recommendations and A/B verdicts must find it from enough posts.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

from sandbox.core import Sandbox


@dataclass(frozen=True)
class Engagement:
    views: int
    reach: int
    likes: int
    comments: int
    shares: int
    saves: int
    avg_watch_ms: int
    total_watch_ms: int
    replays: int


@dataclass(frozen=True)
class PlantedModel:
    """The effects the sandbox plants in its audience numbers; the tests read the truth from here."""

    best_hour_utc: int = 19
    hour_boost: float = 0.8          # views x (1 + boost) at the best hour, falling off over ~2.5 hours
    hour_spread: float = 2.5
    best_weekday: int = 2            # Wednesday (Monday is 0)
    weekday_boost: float = 0.15
    # Engagement multiplier per platform network: where this audience engages most.
    platform_engagement: dict[str, float] = field(default_factory=lambda: {
        "tiktok": 1.5, "blotato": 1.5, "instagram": 1.0, "youtube": 0.8, "facebook": 0.6})
    short_caption_chars: int = 80    # captions up to this long engage better
    short_caption_boost: float = 0.25
    # Engagement per view before the factors; each post's counts are binomial around them.
    like_rate: float = 0.06
    comment_rate: float = 0.008
    share_rate: float = 0.004

    def view_factor(self, published_at: float) -> float:
        moment = time.gmtime(published_at)
        distance = min(abs(moment.tm_hour - self.best_hour_utc), 24 - abs(moment.tm_hour - self.best_hour_utc))
        hour = 1 + self.hour_boost * math.exp(-((distance / self.hour_spread) ** 2))
        weekday = 1 + (self.weekday_boost if moment.tm_wday == self.best_weekday else 0.0)
        return hour * weekday

    def engagement_factor(self, platform: str, caption: str | None) -> float:
        factor = self.platform_engagement.get(platform, 1.0)
        if caption is not None and len(caption) <= self.short_caption_chars:
            factor *= 1 + self.short_caption_boost
        return factor


PLANTED = PlantedModel()


def variant_lift(sb: Sandbox, caption: str | None, cover_offset_seconds: float | None = None) -> float:
    """`sb.config["variant_lift"] = {"marker": 1.2}` lifts engagement of posts whose caption holds the marker;
    `sb.config["cover_lift"] = {1.5: 1.2}` that of posts whose cover is the frame at 1.5 seconds."""
    lifts = sb.setting("variant_lift", default={}) or {}
    lift = math.prod(float(lift) for marker, lift in lifts.items() if caption and marker in caption)
    covers = sb.setting("cover_lift", default={}) or {}
    if cover_offset_seconds is not None:
        lift *= math.prod(float(v) for at, v in covers.items() if abs(float(at) - cover_offset_seconds) < 1e-3)
    return lift


def _unit(post_id: str, salt: str) -> float:
    """A number in [0, 1) fixed for this post and salt."""
    digest = hashlib.sha256(f"{salt}:{post_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _z(post_id: str, salt: str) -> float:
    """A standard normal draw fixed for this post and salt (inverse CDF of the hashed unit)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(min(max(_unit(post_id, salt), 1e-9), 1 - 1e-9))


def _binomial(trials: int, p: float, z: float) -> int:
    """Binomial(trials, p) by its normal approximation with a per-post draw `z`.

    The draw is fixed per post, so a post's count grows with its views and never goes
    down between reads (for the view counts the sandbox produces), while counts across
    posts scatter exactly as independent viewers would: the noise an A/B test must see through.
    """
    p = min(max(p, 0.0), 1.0)
    mean = trials * p
    return max(0, min(trials, int(round(mean + z * (trials * p * (1 - p)) ** 0.5))))


def engagement(
    sb: Sandbox, post_id: str, created_at: float, now: float | None = None, *,
    platform: str | None = None, caption: str | None = None, cover_offset_seconds: float | None = None,
) -> Engagement:
    age = max(0.0, (now or time.time()) - created_at) + float(sb.setting("metrics_age_offset_seconds", default=0))
    # A first burst of views, then growth that slows down (square root of age).
    views = int((40 + 400 * _unit(post_id, "base") + (4 + 4 * _unit(post_id, "rate")) * age ** 0.5)
                * PLANTED.view_factor(created_at))
    rate = ((PLANTED.engagement_factor(platform, caption) if platform else 1.0)
            * variant_lift(sb, caption, cover_offset_seconds))
    likes = _binomial(views, PLANTED.like_rate * rate, _z(post_id, "likes"))
    comments = _binomial(views, PLANTED.comment_rate * rate, _z(post_id, "comments"))
    shares = _binomial(views, PLANTED.share_rate * rate, _z(post_id, "shares"))
    saves = int(views * (0.003 + 0.012 * _unit(post_id, "saves")))
    avg_watch_ms = int(2500 + 9500 * _unit(post_id, "watch"))
    return Engagement(
        views=views,
        reach=int(views * (0.7 + 0.25 * _unit(post_id, "reach"))),
        likes=likes,
        comments=comments,
        shares=shares,
        saves=saves,
        avg_watch_ms=avg_watch_ms,
        total_watch_ms=views * avg_watch_ms,
        replays=int(views * 0.1 * _unit(post_id, "replays")),
    )
