"""The real parts behind the pipeline's ports: database, Cloud Tasks, storage, connections, mail."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.config import core
from shared.db import database
from shared.log import get_logger
from shared.platforms import adapter_class, adapters
from shared.publishing.runtime import Runtime

log = get_logger(__name__)


def worker_url(platform: str) -> str:
    """Where the publish worker of a platform is deployed (one function per platform)."""
    return f"{core().functions_base_url.rstrip('/')}/publish-{platform}"


def enqueue_targets(target_ids: list[str]) -> None:
    """Enqueue targets made runnable outside the worker (a reconnect resumed them).

    A failure here loses nothing: the scheduler tick re-enqueues runnable targets.
    """
    rt = runtime()
    with rt.db.service() as conn:
        rows = conn.execute(
            "select id, platform, task_seq from publish_targets where id = any(%s::uuid[])", (target_ids,)
        ).fetchall()
    for row in rows:
        rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])


def build_runtime(**overrides: Any) -> Runtime:
    from shared.connections.refresh import credentials_for
    from shared.connections.store import mark_expired
    from shared.media.renditions import convert_for_target, media_for_target
    from shared.tasks.client import task_queue

    parts: dict[str, Any] = {
        "db": database(),
        "queue": task_queue(),
        "credentials": lambda db, connection_id, force, row=None: credentials_for(db, connection_id, force,
                                                                                   row=row),
        "media": lambda target, video=None, renditions=None, say=None: media_for_target(
            target, video=video, renditions=renditions, say=say),
        "adapter_for": lambda key: adapter_class(key)(),
        "worker_url": worker_url,
        "connection_expired": lambda conn, connection_id, reason: mark_expired(conn, connection_id, reason),
        "convert_for": lambda target: convert_for_target(target),
    }
    parts.update(overrides)
    return Runtime(**parts)


@lru_cache
def runtime() -> Runtime:
    return build_runtime()


def run_tick(rt: Runtime | None = None) -> dict[str, Any]:
    """Everything the minute tick does; one failing duty never stops the others."""
    from shared.accounts.cleanup import run_account_cleanup
    from shared.analytics.collect import collect_due
    from shared.analytics.experiments import decide_due
    from shared.connections.refresh import refresh_due
    from shared.connections.warnings import enqueue_expiry_warnings
    from shared.notify.mailer import SmtpMailer
    from shared.notify.outbox import drain_outbox
    from shared.notify.outcomes import mail_outcomes
    from shared.ops.metrics import log_readings, record_refresh_run
    from shared.publishing import bulk, tick
    from shared.storage import storage
    from shared.storage.retention import run_retention, storage_usage
    from shared.webhooks.delivery import webhook_tick

    rt = rt or runtime()
    now = rt.clock()
    duties: dict[str, Any] = {
        "enqueued": lambda: tick.enqueue_due(rt, now),
        "batches_expanded": lambda: bulk.expand_pending(rt),
        "tokens": lambda: record_refresh_run(rt.db, now, refresh_due(rt.db, now).as_dict()),
        "expiry_warnings": lambda: vars(enqueue_expiry_warnings(rt.db, now)),
        # Outcome mails and webhooks come from the events outbox (shared/notify/outcomes.py, shared/webhooks/).
        "outcome_mails": lambda: mail_outcomes(rt.db, now).as_dict(),
        "webhooks": lambda: webhook_tick(rt.db, rt.queue, now),
        "mails_sent": lambda: drain_outbox(rt.db, SmtpMailer(), now=now),
        "retention": lambda: len(run_retention(rt.db, storage(), now).deleted_videos),
        "oauth_states_purged": lambda: _purge_oauth_states(rt, now),
        "analytics": lambda: collect_due(rt.db, rt, now).as_dict(),
        "experiments": lambda: decide_due(rt.db, now),
        "account_cleanup": lambda: run_account_cleanup(rt.db, storage(), now).as_dict(),
        # Every 5 minutes: each operator alert's value as an `ops_metric` log line (docs/deploy.md, Alerts).
        "alerts_breached": lambda: log_readings(rt.db, now) if now.minute % 5 == 0 else [],
    }
    summary: dict[str, Any] = {}
    for name, duty in duties.items():
        try:
            summary[name] = duty()
        except Exception:
            log.exception("tick duty failed", duty=name)
            summary[name] = "failed"
    if now.minute == 0:  # hourly is enough for the storage alert
        try:
            usage = storage_usage(storage())
            summary["storage"] = {"bytes": usage.bytes, "count": usage.count, "alert": usage.alert}
            (log.error if usage.alert else log.info)("storage usage", message=usage.message)
        except Exception:
            log.exception("tick duty failed", duty="storage_usage")
    return summary


def _purge_oauth_states(rt: Runtime, now: Any) -> int:
    with rt.db.service() as conn:
        return conn.execute("delete from oauth_states where expires_at < %s", (now,)).rowcount


__all__ = ["adapters", "build_runtime", "enqueue_targets", "run_tick", "runtime", "worker_url"]
