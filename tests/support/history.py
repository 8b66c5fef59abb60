"""A user's publishing history made from the sandbox's audience model, for analytics tests and benchmarks.

Publishing thousands of posts through the pipeline to get 60 days of history would
take minutes; the numbers the pipeline would collect come from `sandbox.engagement`
anyway. So this writes the rows the pipeline and the daily collector would have
written (posts, published targets, one snapshot per day) with the counts the sandbox
model gives each post at each age — the same planted truth the live sandbox serves.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.core import Sandbox
from sandbox.engagement import engagement
from shared.db import Database

HASHTAG_POOL = ("coffee", "latteart", "barista", "morning", "espresso", "cafe", "smallbusiness", "localshop")


@dataclass(frozen=True)
class History:
    user_id: str
    connections: dict[str, str]     # platform -> connection id
    targets: int
    snapshots: int


def simulate(db: Database, user_id: str, *, days: int, posts_per_day: int, end: datetime, seed: int = 7,
             platforms: tuple[str, ...] = ("tiktok", "instagram", "youtube", "facebook"),
             snapshot_days: int | None = None, sandbox: Sandbox | None = None) -> History:
    """`days` of history ending at `end`: posts at random hours, each on one platform, read once a day."""
    rng = random.Random(seed)
    sb = sandbox or Sandbox()
    connections: dict[str, str] = {}
    targets = snapshots = 0
    with db.service() as conn:
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1) "
                             "returning id", (user_id, f"{user_id}/history/{uuid.uuid4()}.mp4")).fetchone()
        assert video is not None  # an insert ... returning answers its row
        for platform in platforms:
            connection = conn.execute(
                "insert into social_connections (user_id, platform, platform_account_id, username) "
                "values (%s, %s, %s, %s) returning id",
                (user_id, platform, f"acct-{platform}-{user_id[:8]}", f"{platform}_account")).fetchone()
            assert connection is not None
            connections[platform] = str(connection["id"])
        target_rows, snapshot_rows = [], []
        for day in range(days):
            for _ in range(posts_per_day):
                platform = rng.choice(platforms)
                published = (end - timedelta(days=days - day)).replace(
                    hour=rng.randrange(24), minute=rng.randrange(60), second=0, microsecond=0)
                long_caption = rng.random() < 0.5
                caption = ("Fresh beans roasted this morning. " * (6 if long_caption else 1)).strip()
                tags = rng.sample(HASHTAG_POOL, rng.randrange(0, 6))
                post_id, target_id = uuid.uuid4(), uuid.uuid4()
                # The audience's noise follows the platform's post id: from the seed, so a run is repeatable.
                platform_post_id = f"sim-{seed}-{rng.getrandbits(64):016x}"
                target_rows.append((post_id, target_id, platform, published, caption, tags, platform_post_id))
                horizon = min(snapshot_days or days, max(0, (end - published).days))
                for age_days in range(1, horizon + 1):
                    at = published + timedelta(days=age_days)
                    counts = engagement(sb, platform_post_id, published.timestamp(), at.timestamp(),
                                        platform=platform, caption=caption)
                    snapshot_rows.append((user_id, target_id, platform, platform_post_id, counts.views, counts.likes,
                                          counts.comments, counts.shares, counts.saves, at))
        with conn.cursor() as cur:
            cur.executemany("insert into posts (id, user_id, video_id, caption, hashtags) values (%s, %s, %s, %s, %s)",
                            [(p, user_id, video["id"], c, t) for p, _t, _pl, _at, c, t, _pp in target_rows])
            cur.executemany(
                "insert into publish_targets (id, user_id, post_id, connection_id, platform, state, platform_post_id, "
                "published_at) values (%s, %s, %s, %s, %s, 'published', %s, %s)",
                [(t, user_id, p, connections[pl], pl, pp, at) for p, t, pl, at, _c, _tg, pp in target_rows])
            with cur.copy("copy analytics_snapshots (user_id, target_id, platform, platform_post_id, views, likes, "
                          "comments, shares, saves, fetched_at) from stdin") as copy:
                for row in snapshot_rows:
                    copy.write_row(row)
        targets, snapshots = len(target_rows), len(snapshot_rows)
        # Simulated targets must not be picked up by the tick's metrics collector.
        conn.execute("update publish_targets set metrics_due_at = null where user_id = %s", (user_id,))
    return History(user_id, connections, targets, snapshots)
