"""Each operator alert's value on seeded data, in a database of its own (nothing else in it).

Values are read at a fixed `NOW`; seeded events are placed in and out of each alert's
window by their timestamps.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import log
from shared.db import Database
from shared.ops import metrics
from shared.ops.alerts import ALERTS
from shared.platforms import adapters

NOW = datetime(2030, 1, 15, 20, 0, tzinfo=UTC)  # noon in Los Angeles: the Pacific day began 12 h ago


@pytest.fixture(scope="module")
def ops_db(own_db):
    return own_db


class Seed:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.service() as conn:
            self.user = str(conn.execute("insert into auth.users (email) values (%s) returning id",
                                         (f"{uuid.uuid4().hex[:8]}@example.test",)).fetchone()["id"])
        self.video = self.add_video(1000)
        with db.service() as conn:
            self.post = str(conn.execute("insert into posts (user_id, video_id) values (%s, %s) returning id",
                                         (self.user, self.video)).fetchone()["id"])
        self.connections: dict[str, str] = {}

    def add_video(self, size: int, *, rendition: int = 0, deleted: bool = False) -> str:
        with self.db.service() as conn:
            video = str(conn.execute(
                "insert into videos (user_id, storage_path, size_bytes, deleted_at) values (%s, %s, %s, %s) "
                "returning id", (self.user, f"{self.user}/{uuid.uuid4().hex}.mp4", size,
                                 NOW if deleted else None)).fetchone()["id"])
            if rendition:
                conn.execute("insert into video_renditions (video_id, user_id, kind, storage_path, content_type, "
                             "size_bytes) values (%s, %s, 'converted', %s, 'video/mp4', %s)",
                             (video, self.user, f"{self.user}/{uuid.uuid4().hex}-c.mp4", rendition))
        return video

    def target(self, platform: str, outcome: str, *, requested: datetime, took_s: float,
               scheduled: bool = False) -> None:
        """A target created at `requested` that ended `outcome` `took_s` seconds later."""
        with self.db.service() as conn:
            if platform not in self.connections:
                self.connections[platform] = str(conn.execute(
                    "insert into social_connections (user_id, platform, platform_account_id) values (%s, %s, %s) "
                    "returning id", (self.user, platform, uuid.uuid4().hex)).fetchone()["id"])
            target = conn.execute(
                "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at) "
                "values (%s, %s, %s, %s, %s) returning id",
                (self.user, self.post, self.connections[platform], platform, requested if scheduled else None),
            ).fetchone()["id"]
            conn.execute("update publish_targets set state = %s where id = %s", (outcome, target))
            conn.execute("update publish_events set created_at = %s where target_id = %s and event = 'created'",
                         (requested, target))
            conn.execute("update publish_events set created_at = %s where target_id = %s and to_state = %s",
                         (requested + timedelta(seconds=took_s), target, outcome))


def values(db: Database) -> dict[str, Any]:
    return {r.alert: r for r in metrics.readings(db, NOW, min_sample=5)}


def test_every_alert_reads_as_ok_on_an_empty_database(ops_db):
    found = values(ops_db)
    assert list(found) == [a.name for a in ALERTS]
    assert not any(r.breached for r in found.values())
    assert found["storage_bytes"].value == 0


def test_each_alert_reads_its_value_from_seeded_data(ops_db):
    seed = Seed(ops_db)
    half_hour_ago = NOW - timedelta(minutes=30)
    # YouTube: 7 published (6 in 60 s, 1 in 1200 s) and 1 failed, all scheduled.
    for took in (60, 60, 60, 60, 60, 60, 1200):
        seed.target("youtube", "published", requested=half_hour_ago, took_s=took, scheduled=True)
    seed.target("youtube", "failed", requested=half_hour_ago, took_s=30, scheduled=True)
    # TikTok: 3 published in 120 s (too few to judge a rate), not scheduled.
    for _ in range(3):
        seed.target("tiktok", "published", requested=half_hour_ago, took_s=120)
    # Outside every window: a failure two days ago must not count.
    seed.target("tiktok", "failed", requested=NOW - timedelta(days=2), took_s=10, scheduled=True)
    # Storage: 60 GB + 35 GB rendition still stored; a deleted 50 GB video is gone.
    seed.add_video(60_000_000_000, rendition=35_000_000_000)
    seed.add_video(50_000_000_000, deleted=True)
    # YouTube budget: 85 uploads today (Pacific), 40 yesterday.
    with ops_db.service() as conn:
        for at, count in ((NOW - timedelta(hours=2), 85), (NOW - timedelta(hours=14), 40)):
            conn.execute("insert into platform_quota_usage (platform, scope, used_at) "
                         "select 'youtube', 'project', %s from generate_series(1, %s)", (at, count))
    # Token refreshes: 10 tried in the last day, 1 failed (exactly the 10% limit: not over it).
    metrics.record_refresh_run(ops_db, NOW - timedelta(hours=2), {"refreshed": 8, "expired": 1, "failed": 1})
    metrics.record_refresh_run(ops_db, NOW - timedelta(hours=30), {"refreshed": 0, "expired": 0, "failed": 50})

    found = values(ops_db)
    success = found["success_rate"]
    assert success.value == pytest.approx(0.875) and success.breached            # 7 of 8 < 90%
    assert success.detail["tiktok"]["success_rate"] == 1.0
    latency = found["publish_latency"]
    # p95 of six 60 s and one 1200 s (linear interpolation): 60 + 0.7 * 1140 = 858 s > 300 s.
    assert latency.value == pytest.approx(858.0) and latency.breached
    assert latency.detail["tiktok"]["p95_seconds"] == 120.0
    assert found["scheduled_failure_rate"].value == pytest.approx(1 / 8) and found["scheduled_failure_rate"].breached
    storage = found["storage_bytes"]
    assert storage.value == 95_000_001_000 and storage.breached  # + the seed post's 1000-byte video
    youtube_limit = next(r.limit for r in adapters()["youtube"].quotas if r.scope == "project")
    assert found["youtube_quota"].value == pytest.approx(85 / youtube_limit)
    assert found["youtube_quota"].breached is (85 / youtube_limit > 0.8)
    refresh = found["token_refresh_failure_rate"]
    assert refresh.value == pytest.approx(0.1) and not refresh.breached
    assert refresh.detail == {"refreshed": 8, "expired": 1, "failed": 1}

    metrics.record_refresh_run(ops_db, NOW - timedelta(hours=1), {"refreshed": 0, "expired": 0, "failed": 1})
    refresh = values(ops_db)["token_refresh_failure_rate"]
    assert refresh.value == pytest.approx(2 / 11) and refresh.breached


def test_a_rate_over_too_few_outcomes_never_alerts(ops_db):
    metrics.record_refresh_run(ops_db, NOW + timedelta(days=10), {"refreshed": 0, "expired": 0, "failed": 3})
    later = metrics.token_refresh_failure_rate(ops_db, NOW + timedelta(days=10), min_sample=5)
    assert later.value == 1.0 and not later.breached
    assert metrics.token_refresh_failure_rate(ops_db, NOW + timedelta(days=10), min_sample=3).breached


def _filter_matches(metric_filter: str, line: dict[str, Any]) -> bool:
    """The jsonPayload terms of a log-based metric's filter, checked against one log line."""
    for term in metric_filter.split(" AND "):
        field, _, wanted = term.partition("=")
        if not field.startswith("jsonPayload."):
            continue
        value = line.get(field.removeprefix("jsonPayload."))
        if json.dumps(value) != (wanted if wanted in ("true", "false") else json.dumps(wanted.strip('"'))):
            return False
    return True


def test_the_tick_logs_every_value_and_the_breach_metric_counts_the_breached(ops_db, monkeypatch, make_app):
    from deploy.monitoring import BREACH_METRIC, log_metrics
    from shared.app import bootstrap
    from shared.scheduler import run_tick

    # The unused uploads below go in this very tick: no removal notice period (docs/media.md, Retention).
    monkeypatch.setenv("VIDEO_REMOVAL_NOTICE_DAYS", "0")
    make_app(database=ops_db)   # retention reads its rule from the process's application

    stream = io.StringIO()
    log.configure("INFO", stream=stream)
    try:
        at = NOW + timedelta(minutes=5)   # the tick logs the values every 5 minutes
        now, later = bootstrap(database=ops_db, clock=lambda: at), bootstrap(database=ops_db,
                                                                             clock=lambda: at + timedelta(minutes=1))
        summary = run_tick(now)
        quiet = run_tick(later)
    finally:
        log.configure()
    lines = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    ops_lines = {line["alert"]: line for line in lines if line["message"] == "ops_metric"}
    assert set(ops_lines) == {a.name for a in ALERTS}          # once each, from the first tick only
    assert quiet["alerts_breached"] == []
    breached = {name for name, line in ops_lines.items() if line["breached"]}
    assert breached == set(summary["alerts_breached"]) and "youtube_quota" in breached
    assert ops_lines["youtube_quota"]["severity"] == "WARNING"
    assert ops_lines["success_rate"]["value"] == pytest.approx(0.875)
    # The same tick's retention pass deleted the videos uploaded years before `at` (not the post's video,
    # whose targets ran minutes ago) first.
    assert ops_lines["storage_bytes"]["value"] == 1000 and not ops_lines["storage_bytes"]["breached"]
    assert {line["severity"] for name, line in ops_lines.items() if name not in breached} == {"INFO"}
    counted = {name for name, line in ops_lines.items()
               if _filter_matches(str(log_metrics()[BREACH_METRIC]["filter"]), line)}
    assert counted == breached
