"""The real parts behind the pipeline's ports: database, Cloud Tasks, storage, connections, mail.

`build_runtime(app)` wires a `Runtime` from the application's parts (shared/app.py builds it
once per process as `application().runtime`); `run_tick` is everything the minute tick does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.log import get_logger
from shared.platforms import adapter_class, adapters
from shared.publishing.runtime import Runtime

if TYPE_CHECKING:
    from shared.app import Application
    from shared.storage.base import Storage

log = get_logger(__name__)


def worker_url(functions_base_url: str, platform: str) -> str:
    """Where the publish worker of a platform is deployed (one function per platform)."""
    return f"{functions_base_url.rstrip('/')}/publish-{platform}"


def build_runtime(app: Application, **overrides: Any) -> Runtime:
    """The pipeline's ports on `app`'s database, queue and clock; `overrides` replace single ports (tests)."""
    # Imported here, not at the top: they pull in the platforms, media and connections, which
    # only functions that publish need (cold start of the others).
    from shared.connections.refresh import credentials_for
    from shared.connections.store import mark_expired
    from shared.media.renditions import convert_for_target, media_for_target

    base_url = app.settings.functions_base_url
    parts: dict[str, Any] = {
        "db": app.database,
        "queue": app.queue,
        "clock": app.clock,
        "credentials": lambda db, connection_id, force, row=None: credentials_for(db, connection_id, force,
                                                                                   row=row, now=app.clock()),
        "media": lambda target, video=None, renditions=None, say=None: media_for_target(
            target, db=app.database, storage=app.storage, video=video, renditions=renditions, say=say),
        "adapter_for": lambda key: adapter_class(key)(),
        "worker_url": lambda platform: worker_url(base_url, platform),
        "connection_expired": lambda conn, connection_id, reason: mark_expired(conn, connection_id, reason),
        "convert_for": lambda target: convert_for_target(target, db=app.database, storage=app.storage),
    }
    parts.update(overrides)
    return Runtime(**parts)


def run_tick(rt: Runtime, files: Storage) -> dict[str, Any]:
    """Everything the minute tick does, at `rt.clock()`; one failing duty never stops the others."""
    # Imported here, not at the top: each duty's module is needed by the tick only (cold start
    # of every other function that imports this module for `build_runtime`).
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
    from shared.storage.retention import run_retention, storage_usage
    from shared.webhooks.delivery import webhook_tick

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
        "retention": lambda: len(run_retention(rt.db, files, now).deleted_videos),
        "oauth_states_purged": lambda: _purge_oauth_states(rt, now),
        "analytics": lambda: collect_due(rt.db, rt, now).as_dict(),
        "experiments": lambda: decide_due(rt.db, now),
        "account_cleanup": lambda: run_account_cleanup(rt.db, files, now).as_dict(),
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
            usage = storage_usage(files)
            summary["storage"] = {"bytes": usage.bytes, "count": usage.count, "alert": usage.alert}
            (log.error if usage.alert else log.info)("storage usage", message=usage.message)
        except Exception:
            log.exception("tick duty failed", duty="storage_usage")
    return summary


def _purge_oauth_states(rt: Runtime, now: Any) -> int:
    with rt.db.service() as conn:
        return conn.execute("delete from oauth_states where expires_at < %s", (now,)).rowcount


__all__ = ["adapters", "build_runtime", "run_tick", "worker_url"]
