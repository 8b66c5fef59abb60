"""The operator's alerts in Cloud Monitoring: log-based metrics, alert policies, an uptime check.

Values come from the scheduler tick, which logs every alert of `shared.ops.alerts` as an
`ops_metric` line with `alert`, `value` and `breached`. Log-based metrics
(https://cloud.google.com/logging/docs/logs-based-metrics) count the breached lines
per alert; one alert policy per alert fires when its count is above zero, and mails
the notification channel made from DEPLOY_ALERT_EMAIL. Two more policies: the uptime
check on /health failing, and any `oauth_client_rejected` error (a platform refusing
our app's credentials is a configuration error, not a user's problem).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from deploy.config import DeployConfig
from deploy.steps import Ensure, Step, Upsert
from shared.ops.alerts import ALERTS, OAUTH_CLIENT_REJECTED_EVENT, OPS_METRIC_EVENT, Alert

BREACH_METRIC = "shortpub_alert_breached"
VALUE_METRIC = "shortpub_alert_value"
CLIENT_REJECTED_METRIC = "shortpub_oauth_client_rejected"
CHANNEL = "ALERT_CHANNEL"
UPTIME_NAME = "shortpub health"
POLICY_PREFIX = "shortpub: "
# The tick logs values every 5 minutes; a 10-minute window always holds one.
ALIGNMENT = "600s"


def log_metrics() -> dict[str, dict[str, object]]:
    """Log-based metric definitions (LogMetric resources) by name."""
    ops_filter = f'jsonPayload.message="{OPS_METRIC_EVENT}"'
    alert_label = {"key": "alert", "valueType": "STRING", "description": "which alert"}
    return {
        BREACH_METRIC: {
            "name": BREACH_METRIC,
            "description": "Alert values over their limit, as logged by the scheduler tick (ops_metric).",
            "filter": f"{ops_filter} AND jsonPayload.breached=true",
            "metricDescriptor": {"metricKind": "DELTA", "valueType": "INT64", "labels": [alert_label]},
            "labelExtractors": {"alert": "EXTRACT(jsonPayload.alert)"},
        },
        VALUE_METRIC: {
            "name": VALUE_METRIC,
            "description": "Every alert's current value, as logged by the scheduler tick (for charts).",
            "filter": f"{ops_filter} AND jsonPayload.value:*",
            "metricDescriptor": {"metricKind": "DELTA", "valueType": "DISTRIBUTION", "labels": [alert_label]},
            "valueExtractor": "EXTRACT(jsonPayload.value)",
            "labelExtractors": {"alert": "EXTRACT(jsonPayload.alert)"},
            "bucketOptions": {"exponentialBuckets": {"numFiniteBuckets": 64, "growthFactor": 1.5, "scale": 0.001}},
        },
        CLIENT_REJECTED_METRIC: {
            "name": CLIENT_REJECTED_METRIC,
            "description": "A platform refused our app's own OAuth credentials (configuration error).",
            "filter": f'jsonPayload.message="{OAUTH_CLIENT_REJECTED_EVENT}" AND severity>=ERROR',
            "metricDescriptor": {"metricKind": "DELTA", "valueType": "INT64",
                                 "labels": [{"key": "platform", "valueType": "STRING"}]},
            "labelExtractors": {"platform": "EXTRACT(jsonPayload.platform)"},
        },
    }


def _count_above_zero(display: str, metric_filter: str) -> dict[str, object]:
    return {
        "displayName": display,
        "conditionThreshold": {
            "filter": metric_filter,
            "comparison": "COMPARISON_GT",
            "thresholdValue": 0,
            "duration": "0s",
            "aggregations": [{"alignmentPeriod": ALIGNMENT, "perSeriesAligner": "ALIGN_SUM",
                              "crossSeriesReducer": "REDUCE_SUM"}],
            "trigger": {"count": 1},
        },
    }


def _policy(title: str, documentation: str, condition: dict[str, object]) -> dict[str, object]:
    return {
        "displayName": POLICY_PREFIX + title,
        "combiner": "OR",
        "enabled": True,
        "documentation": {"content": documentation, "mimeType": "text/markdown"},
        "conditions": [condition],
        "alertStrategy": {"autoClose": "86400s"},
    }


def alert_policy(alert: Alert) -> dict[str, object]:
    limit = f"{alert.threshold:g} ({'above' if alert.above else 'below'} is an alert, {alert.unit})"
    metric_filter = (f'metric.type="logging.googleapis.com/user/{BREACH_METRIC}" '
                     f'AND metric.label.alert="{alert.name}"')
    doc = f"{alert.what_to_do}\n\nLimit: {limit}. Current values: `shortpub ops` or `GET /ops/metrics`."
    return _policy(alert.title, doc, _count_above_zero(alert.title, metric_filter))


def policies(config: DeployConfig) -> dict[str, dict[str, object]]:
    """Every alert policy by file stem: one per PRD alert, the OAuth config error, the uptime check."""
    found = {f"alert-{alert.name}": alert_policy(alert) for alert in ALERTS}
    found["alert-oauth_client_rejected"] = _policy(
        "A platform refused our app credentials",
        "A platform answered that our OAuth client id/secret is wrong or revoked (`oauth_client_rejected` "
        "in the logs names it). Nobody can connect or refresh that platform until the app credentials in "
        "Secret Manager and deploy/config.env are fixed; then deploy again.",
        _count_above_zero("oauth_client_rejected logged",
                          f'metric.type="logging.googleapis.com/user/{CLIENT_REJECTED_METRIC}"'))
    found["alert-health"] = _policy(
        "Health check failing",
        f"`{config.functions_base_url}/health` has not answered 200 from several checker regions: the "
        "functions or the database are down. See `shortpub ops` and the health function's logs.",
        {
            "displayName": "uptime check on /health failed",
            "conditionThreshold": {
                "filter": ('metric.type="monitoring.googleapis.com/uptime_check/check_passed" '
                           f'AND resource.type="uptime_url" AND resource.label.host="{_host(config)}"'),
                "comparison": "COMPARISON_GT",
                "thresholdValue": 1,
                "duration": "300s",
                "aggregations": [{"alignmentPeriod": "300s", "perSeriesAligner": "ALIGN_NEXT_OLDER",
                                  "crossSeriesReducer": "REDUCE_COUNT_FALSE",
                                  "groupByFields": ["resource.label.host"]}],
                "trigger": {"count": 1},
            },
        })
    return found


def _host(config: DeployConfig) -> str:
    return urlsplit(config.functions_base_url).netloc


def health_path(config: DeployConfig) -> str:
    return urlsplit(config.functions_base_url).path.rstrip("/") + "/health"


def write_files(config: DeployConfig, root: Path) -> dict[str, Path]:
    """Write every metric and policy definition as JSON under `root`; returns them by stem."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for stem, body in {**{f"metric-{k}": v for k, v in log_metrics().items()}, **policies(config)}.items():
        path = root / f"{stem}.json"
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        files[stem] = path
    return files


def steps(config: DeployConfig, root: Path) -> list[Step]:
    p = f"--project={config.project}"
    files = write_files(config, root)
    out: list[Step] = []
    for name in log_metrics():
        source = f"--config-from-file={files[f'metric-{name}']}"
        out.append(Ensure(
            check=("gcloud", "logging", "metrics", "describe", name, p),
            create=("gcloud", "logging", "metrics", "create", name, source, p),
            update=("gcloud", "logging", "metrics", "update", name, source, p),
        ))
    out.append(Upsert(
        find=("gcloud", "beta", "monitoring", "channels", "list",
              f'--filter=type="email" AND labels.email_address="{config.alert_email}"',
              "--format=value(name)", "--limit=1", p),
        create=("gcloud", "beta", "monitoring", "channels", "create", "--type=email",
                f"--display-name=shortpub operator ({config.alert_email})",
                f"--channel-labels=email_address={config.alert_email}", "--format=value(name)", p),
        keep_as=CHANNEL,
    ))
    uptime_flags = (f"--path={health_path(config)}", "--period=5", "--timeout=10")
    out.append(Upsert(
        find=("gcloud", "monitoring", "uptime", "list-configs", f'--filter=displayName="{UPTIME_NAME}"',
              "--format=value(name)", "--limit=1", p),
        create=("gcloud", "monitoring", "uptime", "create", UPTIME_NAME, "--resource-type=uptime-url",
                f"--resource-labels=host={_host(config)},project_id={config.project}", "--protocol=https",
                *uptime_flags, p),
        update=("gcloud", "monitoring", "uptime", "update", "${FOUND}", *uptime_flags, p),
    ))
    for stem, body in policies(config).items():
        source = f"--policy-from-file={files[stem]}"
        out.append(Upsert(
            find=("gcloud", "monitoring", "policies", "list", f'--filter=displayName="{body["displayName"]}"',
                  "--format=value(name)", "--limit=1", p),
            create=("gcloud", "monitoring", "policies", "create", source,
                    "--notification-channels=${" + CHANNEL + "}", p),
            update=("gcloud", "monitoring", "policies", "update", "${FOUND}", source,
                    "--set-notification-channels=${" + CHANNEL + "}", p),
        ))
    return out
