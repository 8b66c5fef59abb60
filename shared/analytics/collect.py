"""Daily metric snapshots of published posts (FR-9), one duty of the minute tick.

Which targets are due is kept on the target itself (`publish_targets.metrics_due_at`,
set one hour after publishing by a trigger, see migration 20261123200000), so a tick
with nothing due costs one empty index range scan. Due targets are claimed with
`for update skip locked` and their due time is pushed past a short lease before any
platform is called, so two ticks running at once never read the same post twice.

One platform or post failing never stops the others: an expired connection is
skipped until the next day, a rate limit stops that platform for this run only, a
passing failure is retried an hour later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from shared.config import load
from shared.db import Database
from shared.log import get_logger
from shared.platforms import adapter_class
from shared.platforms.base import Credentials, PlatformAdapter, PostMetrics
from shared.platforms.errors import AuthError, PlatformError, QuotaError, TransientError
from shared.publishing import targets
from shared.publishing.runtime import Runtime

from .settings import AnalyticsSettings

log = get_logger(__name__)

# How long a claimed target stays out of other ticks' reach while its metrics are read.
CLAIM_LEASE = timedelta(minutes=15)

CredentialsLookup = Callable[[Database, str], Credentials]


@dataclass
class CollectSummary:
    collected: int = 0       # snapshots written
    skipped: int = 0         # nothing to read (no metrics on the platform, too old, connection expired)
    deferred: int = 0        # the platform asked us to slow down: left for a later run
    failed: int = 0          # an error; tried again later
    by_platform: dict[str, int] = field(default_factory=dict)   # snapshots per platform

    def as_dict(self) -> dict[str, Any]:
        return {"collected": self.collected, "skipped": self.skipped, "deferred": self.deferred,
                "failed": self.failed, "by_platform": dict(self.by_platform)}


def reports_metrics(adapter: type[PlatformAdapter] | PlatformAdapter) -> bool:
    """Whether the platform implements `fetch_metrics` (Blotato, for one, exposes none)."""
    cls = adapter if isinstance(adapter, type) else type(adapter)
    return cls.fetch_metrics is not PlatformAdapter.fetch_metrics


def collect_due(
    db: Database,
    source: Runtime | Mapping[str, PlatformAdapter],
    now: datetime,
    *,
    limit: int | None = None,
    credentials: CredentialsLookup | None = None,
    settings: AnalyticsSettings | None = None,
) -> CollectSummary:
    """Read and store the metrics of every published target whose snapshot is due at `now`.

    `source` gives the adapters (a Runtime, or {platform: adapter}); credentials come
    from `credentials` or else the Runtime's / `credentials_for` (refreshing tokens first).
    """
    settings = settings or load(AnalyticsSettings)
    adapter_for, lookup = _ports(source, credentials, now)
    summary = CollectSummary()
    claimed = _claim(db, now, limit or settings.batch_size)
    if not claimed:
        return summary
    interval = timedelta(hours=settings.snapshot_interval_hours)
    retry = timedelta(minutes=settings.retry_minutes)
    oldest = now - timedelta(days=settings.window_days)
    stopped: dict[str, datetime] = {}   # platform -> when it may be asked again (quota)
    for target in claimed:
        platform = str(target["platform"])
        if target["platform_post_id"] is None or target["published_at"] is None or target["published_at"] < oldest:
            _set_due(db, target, None)
            summary.skipped += 1
            continue
        if platform in stopped:
            _set_due(db, target, stopped[platform])
            summary.deferred += 1
            continue
        try:
            adapter = adapter_for(platform)
            if not reports_metrics(adapter):
                _set_due(db, target, None)
                summary.skipped += 1
                continue
            creds = lookup(db, str(target["connection_id"]))
            metrics = adapter.fetch_metrics(creds, str(target["platform_post_id"]), now=now)
        except QuotaError as exc:
            stopped[platform] = exc.retry_at or now + retry
            log.warning("analytics platform limited", target_id=str(target["id"]), **exc.log_fields())
            _set_due(db, target, stopped[platform])
            summary.deferred += 1
            continue
        except AuthError as exc:
            # The connection needs the user; the tick's token duties and the reconnect flow handle that.
            log.info("analytics skipped: connection needs reconnect", target_id=str(target["id"]),
                     **exc.log_fields())
            _set_due(db, target, now + interval)
            summary.skipped += 1
            continue
        except PlatformError as exc:
            passing = isinstance(exc, TransientError)
            log.warning("analytics read failed", target_id=str(target["id"]), **exc.log_fields())
            _set_due(db, target, now + (retry if passing else interval))
            summary.failed += 1
            continue
        except Exception:
            log.exception("analytics read failed", target_id=str(target["id"]), platform=platform)
            _set_due(db, target, now + retry)
            summary.failed += 1
            continue
        _store(db, target, metrics, now, now + interval)
        summary.collected += 1
        summary.by_platform[platform] = summary.by_platform.get(platform, 0) + 1
    log.info("analytics collected", **summary.as_dict())
    return summary


# ------------------------------------------------------------------------ plumbing


def _ports(
    source: Runtime | Mapping[str, PlatformAdapter], credentials: CredentialsLookup | None, now: datetime,
) -> tuple[Callable[[str], PlatformAdapter], CredentialsLookup]:
    if isinstance(source, Runtime):
        runtime = source
        lookup = credentials or (lambda db, connection_id: runtime.credentials(db, connection_id, False))
        return runtime.adapter, lookup
    adapters = dict(source)

    def adapter_for(key: str) -> PlatformAdapter:
        if key not in adapters:
            adapters[key] = adapter_class(key)()
        return adapters[key]

    if credentials is None:
        raise TypeError("collect_due with adapters of its own needs `credentials` too")
    return adapter_for, credentials


def _claim(db: Database, now: datetime, limit: int) -> list[dict[str, Any]]:
    with db.service() as conn:
        return targets.claim_metrics_due(conn, now=now, limit=limit, lease_until=now + CLAIM_LEASE)


def _set_due(db: Database, target: Mapping[str, Any], due: datetime | None) -> None:
    with db.service() as conn:
        targets.set_metrics_due(conn, target["id"], due)


def _store(db: Database, target: Mapping[str, Any], metrics: PostMetrics, now: datetime, due: datetime) -> None:
    with db.service() as conn:
        conn.execute(
            "insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views, likes, "
            "comments, shares, saves, watch_time_seconds, raw, fetched_at) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (target["user_id"], target["id"], target["platform"], target["platform_post_id"], metrics.views,
             metrics.likes, metrics.comments, metrics.shares, metrics.saves, metrics.watch_time_seconds,
             Jsonb(dict(metrics.raw)), now),
        )
        targets.set_metrics_due(conn, target["id"], due)
