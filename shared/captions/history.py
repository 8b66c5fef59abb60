"""Hashtags that did well for this account: above-median engagement on that platform.

Engagement is the analytics report's rate, (likes + comments + shares) / views, of
each published post's latest snapshot. Read through the user's own transaction, so
RLS shows only their posts.
"""

from __future__ import annotations

import statistics
from typing import Any

from shared.analytics.report import engagement_rate
from shared.db import Database
from shared.platforms import adapters
from shared.publishing import text

# Posts with numbers a platform needs before "above median" means anything.
MIN_POSTS = 3

_RESULTS = (
    "select t.platform, coalesce(t.hashtags, p.hashtags) as hashtags, coalesce(t.caption, p.caption) as caption, "
    "s.views, s.likes, s.comments, s.shares "
    "from publish_targets t join posts p on p.id = t.post_id "
    "join lateral (select * from analytics_snapshots a where a.target_id = t.id "
    "              order by a.fetched_at desc limit 1) s on true "
    "where t.state = 'published' and s.views > 0 "
    "order by t.published_at desc limit 1000"
)


def proven_tags(db: Database, claims: dict[str, Any]) -> dict[str, list[str]]:
    """Network → hashtags of the user's posts that beat their median engagement there, best first."""
    with db.user(claims) as conn:
        rows = conn.execute(_RESULTS).fetchall()
    networks = {key: cls.network for key, cls in adapters().items()}
    by_network: dict[str, list[tuple[float, list[str]]]] = {}
    for row in rows:
        rate = engagement_rate(row["likes"], row["comments"], row["shares"], row["views"])
        if rate is None:
            continue
        tags = [t.lstrip("#") for t in (row["hashtags"] or [])] + text.HASHTAG.findall(row["caption"] or "")
        network = networks.get(row["platform"], row["platform"])
        by_network.setdefault(network, []).append((rate, tags))
    found: dict[str, list[str]] = {}
    for network, posts in by_network.items():
        if len(posts) < MIN_POSTS:
            continue
        median = statistics.median(rate for rate, _ in posts)
        best: dict[str, tuple[float, str]] = {}
        for rate, tags in posts:
            if rate <= median:
                continue
            for tag in tags:
                key = tag.lower()
                if key not in best or rate > best[key][0]:
                    best[key] = (rate, tag)
        found[network] = [tag for _rate, tag in sorted(best.values(), key=lambda item: -item[0])]
    return found


# Past this length a winning caption counts as long; a short winner keeps suggestions short too.
SHORT_CAPTION_CHARS = 80


def winning_styles(db: Database, claims: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Network → traits of the user's A/B winner there, where the user left that default on."""
    with db.user(claims) as conn:
        rows = conn.execute("select platform, traits from publishing_defaults where enabled").fetchall()
    return {row["platform"]: dict(row["traits"]) for row in rows if row["traits"]}
