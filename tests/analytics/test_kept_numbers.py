"""The numbers kept as snapshots arrive (by age, per day) equal those computed from every snapshot.

Reports read `analytics_at_age` and `analytics_daily` instead of scanning snapshots; the
triggers that keep them must give the same answer for any arrival order: a late
snapshot, two reads on one day, a snapshot exactly at an age, a count a platform left out.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from shared.analytics import history
from tests.conftest import make_user

PUBLISHED = datetime(2026, 10, 1, 14, 30, tzinfo=UTC)

# Per day, what each post gained, from every snapshot (the report's former statement).
_DAILY_FROM_SNAPSHOTS = """
with snaps as (
  select s.target_id, (s.fetched_at at time zone 'UTC')::date as day,
         max(s.views) as views, max(s.likes) as likes, max(s.comments) as comments, max(s.shares) as shares
    from analytics_snapshots s where s.user_id = %(user)s group by 1, 2
)
select target_id, day, views - coalesce(lag(views) over w, 0) as views, likes - coalesce(lag(likes) over w, 0) as likes,
       comments - coalesce(lag(comments) over w, 0) as comments, shares - coalesce(lag(shares) over w, 0) as shares
  from snaps window w as (partition by target_id order by day) order by 1, 2
"""


def _target(conn, user_id: str) -> str:
    video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1) returning id",
                         (user_id, f"{user_id}/kept/{uuid.uuid4()}.mp4")).fetchone()["id"]
    connection = conn.execute("insert into social_connections (user_id, platform, platform_account_id, username) "
                              "values (%s, 'instagram', %s, 'kept') returning id",
                              (user_id, f"kept-{uuid.uuid4().hex[:8]}")).fetchone()["id"]
    post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'x') returning id",
                        (user_id, video)).fetchone()["id"]
    target = conn.execute("insert into publish_targets (user_id, post_id, connection_id, platform, state, "
                          "platform_post_id, published_at) values (%s, %s, %s, 'instagram', 'published', 'p', %s) "
                          "returning id", (user_id, post, connection, PUBLISHED)).fetchone()["id"]
    conn.execute("update publish_targets set metrics_due_at = null where id = %s", (target,))
    return str(target)


def _snapshots(rng: random.Random) -> list[tuple[datetime, dict[str, int | None]]]:
    """Reads on nine of ten days, one day twice, one exactly at 72 h; growing counts, one count missing."""
    moments = [PUBLISHED + timedelta(hours=h) for h in (5, 20, 26, 47, 72, 73, 100, 150, 168, 190, 230)]
    moments.append(PUBLISHED + timedelta(hours=26, minutes=30))     # a second read the same day
    moments.sort()
    found = []
    for index, at in enumerate(moments):
        views = 100 * (index + 1) + rng.randrange(50)
        found.append((at, {"views": views, "likes": views // 10, "comments": None if index == 3 else views // 50,
                           "shares": views // 100}))
    return found


def test_kept_numbers_equal_those_from_every_snapshot_in_any_arrival_order(db):
    user = make_user(db)
    rng = random.Random(5)
    with db.service() as conn:
        targets = [_target(conn, user["sub"]) for _ in range(3)]
        for order, target in enumerate(targets):
            reads = _snapshots(rng)
            if order == 1:
                rng.shuffle(reads)                # late arrivals: older snapshots after newer ones
            elif order == 2:
                reads = reads[4:] + reads[:4]     # the first days arrive last
            for at, counts in reads:
                conn.execute("insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, "
                             "views, likes, comments, shares, fetched_at) "
                             "values (%s, %s, 'instagram', 'p', %s, %s, %s, %s, %s)",
                             (user["sub"], target, counts["views"], counts["likes"], counts["comments"],
                              counts["shares"], at))
        expected_daily = conn.execute(_DAILY_FROM_SNAPSHOTS, {"user": user["sub"]}).fetchall()
        kept_daily = conn.execute(
            "select target_id, day, gained_views as views, gained_likes as likes, gained_comments as comments, "
            "gained_shares as shares from analytics_daily where user_id = %s order by 1, 2", (user["sub"],)).fetchall()
        points = history.series(conn, targets)
        kept_ages = conn.execute("select * from analytics_at_age where user_id = %s", (user["sub"],)).fetchall()
    assert len(expected_daily) == 3 * 9 and kept_daily == expected_daily     # nine days with reads each

    kept = {(str(r["target_id"]), r["age"]): r for r in kept_ages}
    for target in targets:
        for label, age in history.AGES.items():
            moment = PUBLISHED + age
            after = next((p for p in points[target] if p["fetched_at"] >= moment), None)
            before = next((p for p in reversed(points[target]) if p["fetched_at"] <= moment), None)
            row = kept[(target, label)]
            assert after is not None
            assert (row["after_at"], row["after_views"]) == (after["fetched_at"], after["views"])
            assert row["after_engagements"] == sum(after[k] or 0 for k in ("likes", "comments", "shares"))
            assert (row["before_at"], row["before_views"]) == (before["fetched_at"], before["views"])
            # What the reports read off the kept row is what the series gives at that age.
            values = history._interpolate(
                age, PUBLISHED, {"fetched_at": row["before_at"], "views": row["before_views"]},
                {"fetched_at": row["after_at"], "views": row["after_views"]}, ("views",))
            assert values == {"views": history.at_ages(points[target], PUBLISHED)[label]["views"]}


def test_numbers_by_age_wait_for_a_snapshot_past_the_age(db):
    user = make_user(db)
    with db.service() as conn:
        target = _target(conn, user["sub"])
        conn.execute("insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views, likes, "
                     "fetched_at) values (%s, %s, 'instagram', 'p', 500, 40, %s)",
                     (user["sub"], target, PUBLISHED + timedelta(hours=30)))
        ages = conn.execute("select age, before_at, after_views from analytics_at_age where target_id = %s",
                            (target,)).fetchall()
    # Past 24 h only: that age has its number (from zero at publishing), 72 h and 7 days wait.
    assert [(a["age"], a["before_at"], a["after_views"]) for a in ages] == [("24h", None, 500)]
