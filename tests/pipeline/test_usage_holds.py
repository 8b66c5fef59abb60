"""Meta's usage headers hold every worker instance, not only the one that read them (NFR-6).

The sandbox answers each Graph call with X-App-Usage / X-Business-Use-Case-Usage and refuses
once a budget is spent, as Meta does. A fresh adapter instance (another worker process) has
an empty in-memory gate: the hold must reach it through the database.
https://developers.facebook.com/docs/graph-api/overview/rate-limiting
"""

from __future__ import annotations

from tests.pipeline.flows import publish, target_request
from tests.support.stack import Harness


def _holds(harness: Harness) -> dict[str, object]:
    with harness.db.service() as conn:
        return {row["scope"]: row["held_until"] for row in conn.execute(
            "select scope, held_until from platform_usage_holds where platform = 'facebook'").fetchall()}


def test_app_usage_near_the_limit_holds_another_instance_before_it_calls(harness: Harness, user_a,
                                                                        vertical_video) -> None:
    sb = harness.sandbox.sandbox
    publish(harness, user_a, vertical_video, ["facebook"])
    sb.config["facebook.app_calls_per_hour"] = len(sb.store("facebook").get("graph_calls", {}).get("app", [])) + 3
    for _ in range(30):                        # step by step until an answer says the app is near its limit
        if "app" in _holds(harness):
            break
        harness.run(max_tasks=1)
    holds = _holds(harness)
    assert "app" in holds and holds["app"] > harness.clock.now

    # Another instance: its own adapter, whose in-memory gate has heard nothing.
    harness.rt.adapters_cache.pop("facebook")
    answer = harness.publish(user_a, video_id=harness.video(user_a, vertical_video), caption="Second",
                             targets=[target_request("facebook")])
    second = str(answer["targets"][0]["target_id"])
    calls_before = len(harness.adapter_requests)
    harness.run(max_tasks=1)
    held = harness.target(second)
    assert held["state"] == "deferred" and held["error_code"] == "usage_high"
    assert held["next_attempt_at"] == holds["app"]
    assert all("/facebook-graph/" not in r for r in harness.adapter_requests[calls_before:])
    assert sb.store("facebook").get("usage_refused", []) == []      # Meta never had to say no
