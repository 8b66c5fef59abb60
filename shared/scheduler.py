"""Everything the minute tick (the scheduler-tick function) does: due posts, token refresh, mail,
webhooks, retention, analytics, operator alerts.

Above the features whose duties it runs (publishing, connections, notify, analytics, storage,
ops, accounts); the composition root's caller hands it the parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from shared.log import get_logger

if TYPE_CHECKING:
    from shared.config import CoreSettings
    from shared.connections.access import AccountAccess
    from shared.publishing.runtime import Runtime
    from shared.storage.base import Storage
    from shared.storage.settings import StorageSettings

log = get_logger(__name__)


class TickParts(Protocol):
    """What the tick runs on: the application's parts (shared/app.py's `Application` has them). Read
    when a duty needs them, so a tick that refreshes no token never builds the vault."""

    @property
    def runtime(self) -> Runtime: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def storage_settings(self) -> StorageSettings: ...
    @property
    def settings(self) -> CoreSettings: ...
    @property
    def account_access(self) -> AccountAccess: ...


def run_tick(parts: TickParts) -> dict[str, Any]:
    """Everything the minute tick does, at the runtime's clock; one failing duty never stops the others.

    The storage settings set the age-out rule and the storage alert level; the core settings give
    the links in mails and the webhook task URL; the account access opens stored tokens and reaches
    the platforms.
    """
    # Imported here, not at the top: the scheduler function imports this module at cold start;
    # the duties' modules (platforms, mail, analytics) load on its first tick.
    from shared.accounts.cleanup import run_account_cleanup
    from shared.analytics.collect import collect_due
    from shared.analytics.experiments import decide_due
    from shared.connections.refresh import refresh_due
    from shared.connections.warnings import enqueue_expiry_warnings
    from shared.media.retention import run_retention, storage_usage
    from shared.notify.mailer import SmtpMailer
    from shared.notify.outbox import drain_outbox
    from shared.ops.metrics import log_readings, record_refresh_run
    from shared.publishing import bulk, tick
    from shared.publishing.outcomes import mail_outcomes
    from shared.webhooks.delivery import webhook_tick

    rt, files, storage_settings, settings = parts.runtime, parts.storage, parts.storage_settings, parts.settings
    now = rt.clock()
    duties: dict[str, Any] = {
        "enqueued": lambda: tick.enqueue_due(rt, now),
        "batches_expanded": lambda: bulk.expand_pending(rt),
        "tokens": lambda: record_refresh_run(rt.db, now, refresh_due(rt.db, parts.account_access, now).as_dict()),
        "expiry_warnings": lambda: vars(enqueue_expiry_warnings(rt.db, now)),
        # Outcome mails and webhooks come from the events outbox (shared/publishing/outcomes.py, shared/webhooks/).
        "outcome_mails": lambda: mail_outcomes(rt.db, now, files, settings.frontend_url).as_dict(),
        "webhooks": lambda: webhook_tick(rt.db, rt.queue, now, settings),
        "mails_sent": lambda: drain_outbox(rt.db, SmtpMailer(), now=now),
        "retention": lambda: len(run_retention(rt.db, files, now, settings=storage_settings).deleted_videos),
        "oauth_states_purged": lambda: _purge_oauth_states(rt, now),
        "analytics": lambda: collect_due(rt.db, rt, now).as_dict(),
        "experiments": lambda: decide_due(rt.db, now, frontend_url=settings.frontend_url),
        "account_cleanup": lambda: run_account_cleanup(rt.db, files, parts.account_access, now).as_dict(),
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
            usage = storage_usage(files, alert_bytes=storage_settings.storage_alert_bytes)
            summary["storage"] = {"bytes": usage.bytes, "count": usage.count, "alert": usage.alert}
            (log.error if usage.alert else log.info)("storage usage", message=usage.message)
        except Exception:
            log.exception("tick duty failed", duty="storage_usage")
    return summary


def _purge_oauth_states(rt: Runtime, now: Any) -> int:
    with rt.db.service() as conn:
        return conn.execute("delete from oauth_states where expires_at < %s", (now,)).rowcount
