"""Event types and the JSON body each one sends (Standard Webhooks: type, timestamp, data).

Events are rows of `outbox_events`, written by database triggers in the transaction
that changed the state (supabase/migrations/20261130070000_signals.sql); this module
only turns a row into the body receivers get.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

TARGET_PUBLISHED = "target.published"
TARGET_FAILED = "target.failed"
TARGET_NEEDS_RECONNECT = "target.needs_reconnect"
TARGET_DEFERRED = "target.deferred"
POST_COMPLETED = "post.completed"
CONNECTION_EXPIRING = "connection.expiring"
CONNECTION_EXPIRED = "connection.expired"
BATCH_COMPLETED = "batch.completed"
# An A/B test's verdict (shared/analytics/experiments.py writes it with the verdict).
EXPERIMENT_DECIDED = "experiment.decided"
# Sent only by "send test event", to the one endpoint asked for.
TEST = "webhook.test"

EVENT_TYPES: tuple[str, ...] = (
    TARGET_PUBLISHED, TARGET_FAILED, TARGET_NEEDS_RECONNECT, TARGET_DEFERRED, POST_COMPLETED,
    CONNECTION_EXPIRING, CONNECTION_EXPIRED, BATCH_COMPLETED, EXPERIMENT_DECIDED,
)

_IDS = ("post_id", "target_id", "connection_id", "batch_id")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _platform_name(platform: str | None) -> str | None:
    if not platform:
        return None
    from shared.notify.templates import platform_name

    return platform_name(platform)


def event_data(event: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {key: str(event[key]) for key in _IDS if event.get(key) is not None}
    data.update(event.get("data") or {})
    if data.get("platform"):
        data["platform_name"] = _platform_name(data["platform"])
    if event["type"] == POST_COMPLETED:
        from shared.publishing.service import summarize

        targets = list(data.get("targets") or [])
        for target in targets:
            target["platform_name"] = _platform_name(target.get("platform"))
        data["targets"] = targets
        data["total"] = len(targets)
        data["published"] = sum(1 for t in targets if t.get("state") == "published")
        data["failed"] = sum(1 for t in targets if t.get("state") == "failed")
        data["summary"] = summarize(targets)
    return data


def event_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The body for an outbox row: {"type", "timestamp" (when it happened), "data"}."""
    return {"type": event["type"], "timestamp": iso(event["created_at"]), "data": event_data(event)}


def sample_event_body(endpoint_id: str, now: datetime) -> dict[str, Any]:
    return {"type": TEST, "timestamp": iso(now),
            "data": {"endpoint_id": endpoint_id, "message": "This is a test event from shortpub."}}
