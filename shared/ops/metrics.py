"""Each operator alert's current value, from the database (the same queries for
`GET /ops/metrics`, `shortpub ops` and the tick's `ops_metric` log lines).

Rates need a few outcomes before they mean anything: a rate over fewer than
OPS_ALERT_MIN_SAMPLE outcomes is reported but never counts as breached.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import load
from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.ops.alerts import ALERTS, BY_NAME, OPS_METRIC_EVENT
from shared.publishing import metrics, quota

log = get_logger(__name__)
# Longer than any alert window looks back.
KEEP_REFRESH_RUNS = timedelta(days=7)


class OpsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Fewest outcomes (publishes, refreshes, scheduled posts) a rate needs before it can alert.
    ops_alert_min_sample: int = 5


@dataclass
class Reading:
    alert: str
    title: str
    value: float | None
    threshold: float
    unit: str
    breached: bool
    window_hours: float
    detail: dict[str, Any] = field(default_factory=dict)


def _reading(name: str, value: float | None, detail: dict[str, Any], *, enough: bool = True) -> Reading:
    alert = BY_NAME[name]
    return Reading(alert.name, alert.title, value, alert.threshold, alert.unit,
                   enough and alert.breached(value), alert.window.total_seconds() / 3600, detail)


def success_rate(db: Database, now: datetime, min_sample: int) -> Reading:
    """The lowest per-platform share of finished publishes that succeeded (platforms with enough of them)."""
    rows = metrics.success_rate(db, now - BY_NAME["success_rate"].window)
    detail = {r["platform"]: {"published": r["published"], "failed": r["failed"],
                              "success_rate": float(r["success_rate"])} for r in rows}
    counted = [float(r["success_rate"]) for r in rows if r["published"] + r["failed"] >= min_sample]
    return _reading("success_rate", min(counted) if counted else None, detail)


def publish_latency(db: Database, now: datetime) -> Reading:
    """The highest per-platform p95 seconds from request (or scheduled time) to published."""
    rows = metrics.latency(db, now - BY_NAME["publish_latency"].window)
    detail = {r["platform"]: {"published": r["published"], "p95_seconds": round(float(r["p95_seconds"]), 1)}
              for r in rows}
    return _reading("publish_latency", max((float(r["p95_seconds"]) for r in rows), default=None), detail)


_REFRESH = """
select coalesce(sum(refreshed), 0) as refreshed, coalesce(sum(expired), 0) as expired,
       coalesce(sum(failed), 0) as failed
  from ops.token_refresh_runs where ran_at >= %(since)s and ran_at <= %(now)s
"""


def token_refresh_failure_rate(db: Database, now: datetime, min_sample: int) -> Reading:
    """Refreshes that failed (not revoked grants: those are the user's to fix) over all tried."""
    with db.service() as conn:
        row = conn.execute(_REFRESH, {"since": now - BY_NAME["token_refresh_failure_rate"].window,
                                      "now": now}).fetchone()
    assert row is not None
    tried = int(row["refreshed"]) + int(row["expired"]) + int(row["failed"])
    detail = {k: int(row[k]) for k in ("refreshed", "expired", "failed")}
    value = int(row["failed"]) / tried if tried else None
    return _reading("token_refresh_failure_rate", value, detail, enough=tried >= min_sample)


def project_daily_quota(db: Database, now: datetime) -> Reading:
    """The share of a project-wide daily budget used today (YouTube's units, Pacific day), the fullest budget.

    Every platform whose descriptor declares such a budget is read; the alert keeps its name ("youtube_quota").
    """
    from shared.platforms.registry import registry  # the platform packages load only when the gauge is read

    detail: dict[str, Any] = {}
    with db.service() as conn:
        for platform in registry():
            for rule in platform.project_daily_quotas:
                start, end = quota.window(rule, now)
                detail[rule.name] = {"used": _used(conn, platform.key, start, end), "limit": rule.limit}
    shares = [d["used"] / d["limit"] for d in detail.values() if d["limit"]]
    return _reading("youtube_quota", max(shares) if shares else None, detail)


def _used(conn: Conn, platform: str, start: datetime, end: datetime) -> int:
    row = conn.execute("select coalesce(sum(units), 0) as used from platform_quota_usage where platform = %s "
                       "and scope = 'project' and used_at >= %s and used_at < %s", (platform, start, end)).fetchone()
    return int(row["used"]) if row else 0


_STORED = """
select (select coalesce(sum(size_bytes), 0) from videos where deleted_at is null)
     + (select coalesce(sum(r.size_bytes), 0) from video_renditions r
          join videos v on v.id = r.video_id where v.deleted_at is null) as bytes,
       (select count(*) from videos where deleted_at is null) as videos
"""


def storage_bytes(db: Database) -> Reading:
    """Bytes of every stored video and rendition (what retention has not deleted yet)."""
    with db.service() as conn:
        row = conn.execute(_STORED).fetchone()
    assert row is not None
    return _reading("storage_bytes", float(row["bytes"]), {"videos": int(row["videos"])})


_SCHEDULED = """
select count(*) filter (where e.to_state = 'published') as published,
       count(*) filter (where e.to_state = 'failed') as failed
  from publish_events e join publish_targets t on t.id = e.target_id
 where t.scheduled_at is not null and e.to_state in ('published', 'failed')
   and e.created_at >= %(since)s and e.created_at <= %(now)s
"""


def scheduled_failure_rate(db: Database, now: datetime, min_sample: int) -> Reading:
    """Scheduled targets that ended failed over those that ended at all."""
    with db.service() as conn:
        row = conn.execute(_SCHEDULED, {"since": now - BY_NAME["scheduled_failure_rate"].window,
                                        "now": now}).fetchone()
    assert row is not None
    done = int(row["published"]) + int(row["failed"])
    value = int(row["failed"]) / done if done else None
    return _reading("scheduled_failure_rate", value, {"published": int(row["published"]), "failed": int(row["failed"])},
                    enough=done >= min_sample)


def readings(db: Database, now: datetime, *, min_sample: int | None = None) -> list[Reading]:
    """Every alert's current value, in the order of `ALERTS`."""
    n = load(OpsSettings).ops_alert_min_sample if min_sample is None else min_sample
    found = {
        "success_rate": success_rate(db, now, n),
        "publish_latency": publish_latency(db, now),
        "token_refresh_failure_rate": token_refresh_failure_rate(db, now, n),
        "youtube_quota": project_daily_quota(db, now),
        "storage_bytes": storage_bytes(db),
        "scheduled_failure_rate": scheduled_failure_rate(db, now, n),
    }
    return [found[alert.name] for alert in ALERTS]


def as_json(found: list[Reading], now: datetime) -> dict[str, Any]:
    return {"measured_at": now.isoformat(), "alerts": [asdict(r) for r in found],
            "breached": [r.alert for r in found if r.breached]}


def record_refresh_run(db: Database, now: datetime, summary: dict[str, int]) -> dict[str, int]:
    """Keep one tick's token refresh counts (the refresh failure alert reads them)."""
    if any(summary.get(k) for k in ("refreshed", "expired", "failed")):
        with db.service() as conn:
            conn.execute("insert into ops.token_refresh_runs (ran_at, refreshed, expired, failed) "
                         "values (%s, %s, %s, %s)",
                         (now, summary.get("refreshed", 0), summary.get("expired", 0), summary.get("failed", 0)))
            conn.execute("delete from ops.token_refresh_runs where ran_at < %s", (now - KEEP_REFRESH_RUNS,))
    return summary


def log_readings(db: Database, now: datetime) -> list[str]:
    """Log each value as an `ops_metric` line (log-based metrics count the breached ones); returns breached."""
    found = readings(db, now)
    for r in found:
        (log.warning if r.breached else log.info)(
            OPS_METRIC_EVENT, alert=r.alert, value=r.value, threshold=r.threshold, breached=r.breached)
    return [r.alert for r in found if r.breached]
