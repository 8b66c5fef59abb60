"""Every state change is an event; the health queries in shared/publishing/metrics.py read them."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.publishing import metrics
from tests.pipeline.flows import publish
from tests.support.stack import Harness


def _mine(rows: list[dict], platforms: set[str]) -> dict[str, dict]:
    return {row["platform"]: row for row in rows if row["platform"] in platforms}


def test_state_changes_are_events_and_metrics_read_them(pipeline: Harness, user_a, vertical_video) -> None:
    with pipeline.db.service() as conn:
        since: datetime = conn.execute("select now() as now").fetchone()["now"]

    def faults() -> None:
        pipeline.fault("instagram", "publish", "server_error")           # one retry, reconciled
        pipeline.fault("facebook", "finish", "processing_error")         # fails for good

    answer = publish(pipeline, user_a, vertical_video, ["instagram", "facebook"], before=faults)
    pipeline.run()
    ig, fb = answer["by_platform"]["instagram"], answer["by_platform"]["facebook"]

    # Every change of state, in order, with the error code where there was one.
    ig_events = pipeline.events(ig)
    assert ig_events[0]["event"] == "created" and ig_events[0]["to_state"] == "queued"
    steps = [(e["from_state"], e["to_state"]) for e in ig_events[1:]]
    assert all(a != b for a, b in steps)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(steps, steps[1:], strict=False)), steps
    assert ("publishing", "reconciling") in steps
    assert steps[-1][1] == "published"
    retry = next(e for e in ig_events if e["to_state"] == "reconciling")
    assert retry["error_code"] and retry["detail"]["error_class"] == "transient"
    fb_last = pipeline.events(fb)[-1]
    assert (fb_last["to_state"], fb_last["error_code"]) == ("failed", "processing_error")
    assert "Facebook" in fb_last["detail"]["user_message"]

    platforms = {"instagram", "facebook"}
    rates = _mine(metrics.success_rate(pipeline.db, since), platforms)
    assert (rates["instagram"]["published"], rates["instagram"]["failed"]) == (1, 0)
    assert (rates["facebook"]["published"], rates["facebook"]["failed"]) == (0, 1)
    assert float(rates["instagram"]["success_rate"]) == 1.0 and float(rates["facebook"]["success_rate"]) == 0.0

    latency = _mine(metrics.latency(pipeline.db, since), platforms)
    assert set(latency) == {"instagram"}
    assert latency["instagram"]["published"] == 1
    assert 0 < latency["instagram"]["p50_seconds"] <= latency["instagram"]["p95_seconds"] < 600

    retried = _mine(metrics.retries(pipeline.db, since), platforms)
    assert retried["instagram"]["retries"] == 1 and retried["instagram"]["reconciles"] == 1
    assert "facebook" not in retried

    used = {(row["platform"], row["scope"]): row for row in metrics.quota_use(pipeline.db, since - timedelta(days=1))
            if row["platform"] in platforms}
    target = pipeline.target(ig)
    scope = f"account:{pipeline.account_id(str(target['connection_id']))}"
    assert used[("instagram", scope)]["units"] == 1



def test_a_retry_that_keeps_the_state_is_an_event_and_counts(pipeline: Harness, user_a, vertical_video) -> None:
    """A read-only step retried in place changes no state, yet it is a retry: it gets its own event."""
    with pipeline.db.service() as conn:
        since: datetime = conn.execute("select now() as now").fetchone()["now"]

    def faults() -> None:
        pipeline.fault("youtube", "list", "server_error")  # the processing check fails once

    answer = publish(pipeline, user_a, vertical_video, ["youtube"], before=faults)
    pipeline.run()
    target_id = answer["by_platform"]["youtube"]
    assert pipeline.target(target_id)["state"] == "published"
    retry_events = [e for e in pipeline.events(target_id) if e["event"] == "retry_scheduled"]
    assert len(retry_events) == 1
    assert retry_events[0]["from_state"] == retry_events[0]["to_state"] == "processing"
    assert retry_events[0]["detail"]["error_class"] == "transient"
    assert _mine(metrics.retries(pipeline.db, since), {"youtube"})["youtube"]["retries"] == 1
