"""Failures while reconciling never post twice (issue: a refused check during reconciliation).

For every integration: the irreversible call acts on the platform but its answer is lost,
then the read-only question "did it take effect?" is refused in turn with a rate limit,
an expired token (the user reconnects), a server error and a timeout. Each failure keeps
the "outcome unknown" mark, so the question is asked again before anything is resent:
exactly one post on the sandbox, and the target ends `published` with its link.
"""

from __future__ import annotations

import pytest

from shared.http import ApiError
from shared.publishing.service import cancel_target
from tests.pipeline.conftest import HANG_SECONDS, HTTP_TIMEOUT
from tests.pipeline.flows import publish
from tests.support.edge import as_answered
from tests.support.stack import Harness, as_user

# platform -> (irreversible operation, fault that makes its answer get lost, the reconcile's first read)
LOST_ANSWER = {
    "blotato": ("create_post", "lost_response", "list_posts"),
    "tiktok": ("upload", "slow", "status"),
    "instagram": ("publish", "publish_then_reset", "container_status"),
    "facebook": ("finish", "finish_then_reset", "status"),
    "youtube": ("upload", "lost_response", "upload_status"),
}
# What the read answers, in order, before it is finally answered.
READ_FAULTS = ("rate_limited", "expired_token", "server_error", "timeout")


def _posts(harness: Harness, platform: str) -> int:
    if platform == "blotato":  # every post Blotato created, settled or not
        return len(harness.sandbox.sandbox.store("blotato").get("posts", {}))
    return len(harness.published(platform))


def _inject(harness: Harness, platform: str) -> None:
    operation, lost, read = LOST_ANSWER[platform]
    harness.fault(platform, operation, lost, delay_s=HTTP_TIMEOUT + 0.5)
    kinds = READ_FAULTS
    skip = 0
    if platform == "youtube":
        # The upload step itself asks the session how far it got: before sending (let that pass)
        # and after the drop (fail it, so the outcome stays unknown and the pipeline reconciles).
        skip, kinds = 1, ("server_error", *READ_FAULTS)
    for index, kind in enumerate(kinds):
        harness.fault(platform, read, kind, delay_s=HANG_SECONDS, skip=skip if index == 0 else 0)


def _run_until_step(harness: Harness, target_id: str, step: str) -> None:
    """Deliver tasks until the target's next step is `step` (the irreversible one)."""
    for _ in range(100):
        if (harness.target(target_id)["step_data"] or {}).get("step") == step:
            return
        pending = harness.queue.pending()
        assert pending, harness.target(target_id)
        harness.clock.now = max(harness.clock.now, pending[0].run_at)
        harness.queue._run(harness.queue._pop(harness.clock.now))
    raise AssertionError(f"never reached step {step}")


@pytest.mark.parametrize("platform", list(LOST_ANSWER))
def test_refused_reconcile_reads_never_post_twice(pipeline: Harness, user_a, vertical_video, platform: str) -> None:
    answer = publish(pipeline, user_a, vertical_video, [platform])
    target_id = answer["by_platform"][platform]
    step = {"blotato": "create_post", "tiktok": "upload", "instagram": "publish", "facebook": "finish",
            "youtube": "upload"}[platform]
    _run_until_step(pipeline, target_id, step)
    _inject(pipeline, platform)
    pipeline.run()

    # The read answered 429, then 401: the target waits for the user, the mark kept.
    parked = pipeline.target(target_id)
    assert parked["state"] == "needs_reconnect", (parked["state"], parked["user_message"])
    assert "pending_call" in parked["step_data"]
    states = [row["state"] for _, _, row in pipeline.history if str(row["id"]) == target_id]
    assert "deferred" in states, states   # the rate limit: wait, then ask again
    # Once the call is in flight the mark is kept (a budget wait before the call, when the session's
    # other tests used up a per-minute budget, has no mark yet and is not the point here).
    rows = [row for _, _, row in pipeline.history if str(row["id"]) == target_id]
    marked = next(n for n, row in enumerate(rows) if "pending_call" in row["step_data"])
    assert all("pending_call" in row["step_data"] for row in rows[marked:]
               if row["state"] in ("deferred", "needs_reconnect"))

    # It may be live: the user cannot cancel it while it waits for the reconnect.
    with pytest.raises(ApiError) as refused, as_answered():
        cancel_target(pipeline.rt, as_user(user_a), target_id)
    assert refused.value.status == 409 and "may already be live" in refused.value.message

    # The user reconnects; the question comes first (5xx, then a timeout, then an answer).
    if platform == "blotato":
        pipeline.connect_blotato(user_a)
    else:
        account = pipeline.account_id(str(parked["connection_id"]))
        if platform == "facebook":  # the connection is the Page; the user signs in as its owner
            account = pipeline.sandbox.sandbox.account("facebook", account)["owner"]
        pipeline.connect(user_a, platform, sandbox_account=account)
    pipeline.run()

    final = pipeline.target(target_id)
    assert final["state"] == "published", (final["state"], final["user_message"], final["error_code"])
    assert final["platform_url"], final
    assert _posts(pipeline, platform) == 1
    assert not [f for f in pipeline.sandbox.sandbox.faults if f.times], "every scripted fault was met"
    faulted = [kind for name, _, kind in pipeline.sandbox.sandbox.calls_faulted if name == platform]
    assert faulted[-4:] == list(READ_FAULTS), faulted
