"""Plausible, deterministic audience numbers for the simulators' metrics endpoints.

Not a platform module (no `register`). Each post gets its own rates from a hash of
its id, and its counts grow with the post's age, so two reads of the same post never
go down and two posts differ. `sb.config["metrics_age_offset_seconds"]` ages every
post at once, so tests can look a day or a week ahead without waiting.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

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


def _unit(post_id: str, salt: str) -> float:
    """A number in [0, 1) fixed for this post and salt."""
    digest = hashlib.sha256(f"{salt}:{post_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def engagement(sb: Sandbox, post_id: str, created_at: float, now: float | None = None) -> Engagement:
    age = max(0.0, (now or time.time()) - created_at) + float(sb.setting("metrics_age_offset_seconds", default=0))
    # A first burst of views, then growth that slows down (square root of age).
    views = int(40 + 400 * _unit(post_id, "base") + (2 + 8 * _unit(post_id, "rate")) * age ** 0.5)
    likes = int(views * (0.03 + 0.09 * _unit(post_id, "likes")))
    comments = int(views * (0.004 + 0.016 * _unit(post_id, "comments")))
    shares = int(views * (0.002 + 0.008 * _unit(post_id, "shares")))
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
