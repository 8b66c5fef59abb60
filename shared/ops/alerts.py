"""The operator's alerts (PRD "Monitoring & Alerts") as data.

The same definitions drive three things: `GET /ops/metrics` (and `shortpub ops`) shows
each alert's current value; the scheduler tick logs each value as an `ops_metric` line,
which a log-based metric counts when it is over its limit; and `deploy/` creates one
Cloud Monitoring alert policy per alert on that count. A threshold lives here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# Log event names Cloud Monitoring filters on (log-based metrics in deploy/monitoring.py).
OPS_METRIC_EVENT = "ops_metric"
# Logged at ERROR by the OAuth code when a platform refuses our app's own credentials.
OAUTH_CLIENT_REJECTED_EVENT = "oauth_client_rejected"


@dataclass(frozen=True)
class Alert:
    name: str
    title: str
    threshold: float
    # True: breached when the value is above the threshold; False: when below.
    above: bool
    unit: str            # ratio | seconds | bytes
    window: timedelta    # how far back the value looks
    what_to_do: str      # put into the alert policy's documentation

    def breached(self, value: float | None) -> bool:
        if value is None:
            return False
        return value > self.threshold if self.above else value < self.threshold


HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ALERTS: tuple[Alert, ...] = (
    Alert("success_rate", "Publishing success rate below 90%", 0.90, False, "ratio", HOUR,
          "A platform fails more than 1 in 10 publishes. `shortpub ops` names the platform; its "
          "error codes are in the logs (severity WARNING, `step failed`) and in docs/platform-*.md."),
    Alert("publish_latency", "Publishing latency above 5 minutes (p95)", 300.0, True, "seconds", HOUR,
          "Publishes take longer than 5 minutes from request to published. Check the queue backlog "
          "(Cloud Tasks console), deferrals by budget, and the platform's status page."),
    Alert("token_refresh_failure_rate", "OAuth token refreshes failing above 10%", 0.10, True, "ratio", DAY,
          "More than 1 in 10 token refreshes failed for a reason other than a revoked grant. Look for "
          "`token refresh failed` / `token refresh broke` in the logs; a vault key problem shows there."),
    Alert("youtube_quota", "YouTube daily quota above 80%", 0.80, True, "ratio", DAY,
          "The project has used more than 80% of its YouTube budget for today (Pacific day). New "
          "uploads will be deferred to tomorrow; ask Google for a quota increase if this repeats."),
    Alert("storage_bytes", "Stored videos above 90 GB", 90e9, True, "bytes", DAY,
          "Stored videos exceed 90 GB. Check that retention runs (`retention` in the tick summary) "
          "or lower VIDEO_RETENTION_DAYS."),
    Alert("scheduled_failure_rate", "Scheduled posts failing above 5%", 0.05, True, "ratio", DAY,
          "More than 1 in 20 scheduled posts ended failed in the last day. `shortpub ops` shows the "
          "count; the users were mailed; look at the failing platform's errors."),
)

BY_NAME = {alert.name: alert for alert in ALERTS}
