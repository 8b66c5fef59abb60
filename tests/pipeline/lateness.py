"""Lateness of scheduled posts: slot → live on the platform, staged ahead or started at the slot.

Real pipeline, real PostgreSQL, the sandbox over HTTP, on a controlled clock that the sandbox
follows (`Sandbox.clock_source`), so platform processing takes realistic times (each object
draws its own from `PROCESSING_RANGES`) without waiting for them. Every target is scheduled
for the same slot; the tick runs every minute of simulated time. "Live" is when the platform
made the post visible by its own clock (YouTube: public at publishAt; Facebook: a processed
Reel at its scheduled time; Instagram: media_publish; TikTok and Blotato: processing done),
not when we noticed. Call times are not simulated: each delivery takes no simulated time.

Used by tests/pipeline/test_lateness.py (a small run) and bench/lateness_bench.py.
"""

from __future__ import annotations

import os
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox import facebook as facebook_sandbox
from sandbox import youtube as youtube_sandbox
from tests.pipeline.flows import connect, target_request
from tests.support.stack import Harness

PLATFORMS = ("youtube", "facebook", "instagram", "blotato", "tiktok")
# Seconds each platform takes to process one video (issue 18's realistic times; Blotato's is the
# TikTok processing behind it).
PROCESSING_RANGES = {"youtube": (60, 180), "facebook": (20, 60), "instagram": (30, 90), "tiktok": (30, 90),
                     "blotato": (30, 90)}
STAGE_LEAD_SETTINGS = ("YOUTUBE_STAGE_LEAD_MINUTES", "FACEBOOK_STAGE_LEAD_MINUTES",
                       "INSTAGRAM_STAGE_LEAD_MINUTES", "BLOTATO_STAGE_LEAD_MINUTES", "TIKTOK_STAGE_LEAD_MINUTES")
POSTS_PER_USER = 5   # within every per-account daily cap (YouTube's per-user share is 10)


def configure(monkeypatch: Any, *, staged: bool) -> None:
    """Staging on (the defaults) or off (lead 0: every target starts at its slot). Before the
    harness builds its adapters."""
    for name in STAGE_LEAD_SETTINGS:
        if staged:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, "0")


def run(harness: Harness, video: Path, *, posts: int, slot: datetime, users: list[dict[str, str]],
        seed: int = 18) -> dict[str, Any]:
    """Schedule `posts` posts (one target per platform each) for `slot`; run until all are final."""
    sb = harness.sandbox.sandbox
    sb.random.seed(seed)
    sb.config.update({f"{p}.processing_range": list(r) for p, r in PROCESSING_RANGES.items()})
    sb.config.update({"youtube.daily_uploads": 10**6, "youtube.channel_daily_uploads": 10**6})
    if os.environ.get("LATENESS_UNCAPPED"):   # bench/lateness_bench.py: one shared account per platform
        sb.config.update({"youtube.daily_units": 10**9, "facebook.reels_per_24h": 10**6,
                          "instagram.quota_total": 10**6, "tiktok.init_per_minute": 10**6,
                          "tiktok.status_per_minute": 10**6, "tiktok.creator_info_per_minute": 10**6,
                          "tiktok.daily_post_cap": 10**6})
    harness.clock.now = slot - timedelta(hours=2)
    sb.clock_source = lambda: harness.clock.now.timestamp()
    try:
        targets = _schedule(harness, video, posts, slot, users)
        _drive(harness, set(targets), slot + timedelta(hours=6))
        return _figures(harness, targets, slot)
    finally:
        sb.clock_source = None


def _schedule(harness: Harness, video: Path, posts: int, slot: datetime,
              users: list[dict[str, str]]) -> dict[str, str]:
    needed = -(-posts // POSTS_PER_USER)
    assert len(users) >= needed, f"{posts} posts need {needed} users"
    targets: dict[str, str] = {}
    videos, connections = {}, {}
    for user in users[:needed]:
        for platform in PLATFORMS:
            connections[user["sub"], platform] = connect(harness, user, platform)
        videos[user["sub"]] = harness.video(user, video)
    for index in range(posts):
        user = users[index // POSTS_PER_USER]
        answer = harness.publish(user, video_id=videos[user["sub"]], caption=f"Slot post {index}",
                                 publish_at=slot.strftime("%Y-%m-%dT%H:%M"), timezone="UTC",
                                 targets=[target_request(p) | {"connection_id": connections[user["sub"], p]}
                                          for p in PLATFORMS])
        targets.update({str(t["target_id"]): t["platform"] for t in answer["targets"]})
    return targets


def _drive(harness: Harness, targets: set[str], until: datetime) -> None:
    """The minute tick and every task in time order, until every target is final."""
    while harness.clock.now < until:
        while harness.tick():
            pass
        harness.run(max_tasks=100_000, until=harness.clock.now + timedelta(minutes=1))
        with harness.db.service() as conn:
            open_ = conn.execute("select count(*) as n from publish_targets where id = any(%s::uuid[]) "
                                 "and state not in ('published', 'failed', 'canceled')",
                                 (list(targets),)).fetchone()["n"]
        if open_ == 0:
            return


def _live_at(harness: Harness, platform: str, row: dict[str, Any]) -> float | None:
    sb = harness.sandbox.sandbox
    data = row["step_data"] or {}
    if platform == "youtube":
        return youtube_sandbox.live_at(sb, str(data.get("video_id")))
    if platform == "facebook":
        return facebook_sandbox.live_at(sb, str(data.get("video_id")))
    if platform == "instagram":
        media = sb.store("instagram").get("media", {}).get(str(row["platform_post_id"]))
        return float(media["created"]) if media else None
    if platform == "tiktok":
        record = sb.store("tiktok").get("publishes", {}).get(str(data.get("publish_id")))
        if not record or record.get("complete_at") is None:
            return None
        return float(record["complete_at"]) + sb.processing_seconds("tiktok", str(record["publish_id"]))
    post = sb.store("blotato").get("posts", {}).get(str(data.get("post_submission_id")))
    if not post or post["status"] != "published":
        return None
    return float(post["created_at"]) + sb.processing_seconds("blotato", post["id"])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _figures(harness: Harness, targets: dict[str, str], slot: datetime) -> dict[str, Any]:
    with harness.db.service() as conn:
        rows = [dict(r) for r in conn.execute("select * from publish_targets where id = any(%s::uuid[])",
                                              (list(targets),)).fetchall()]
    figures: dict[str, Any] = {}
    for platform in PLATFORMS:
        mine = [r for r in rows if r["platform"] == platform]
        live = [at - slot.timestamp() for r in mine if r["state"] == "published"
                and (at := _live_at(harness, platform, r)) is not None]
        seen = [(r["published_at"] - slot).total_seconds() for r in mine if r["published_at"] is not None]
        figures[platform] = {
            "targets": len(mine), "published": len(live),
            "early": sum(1 for v in live if v < 0),
            "live_p50": round(statistics.median(live), 1) if live else None,
            "live_p99": round(_percentile(live, 0.99), 1) if live else None,
            "seen_p99": round(_percentile(seen, 0.99), 1) if seen else None,
        }
    return figures
