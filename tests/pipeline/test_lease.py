"""A step's lease outlasts the longest a Cloud Tasks delivery of its queue may run.

Otherwise a slow upload (up to the 30-minute dispatch deadline of YouTube and TikTok)
would see its lease lapse mid-call, the tick would hand the target to a second worker,
and the first one's result would be discarded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.tasks.queues import queue_spec
from tests.pipeline.flows import publish
from tests.support.stack import Harness


def test_every_step_runs_under_a_lease_longer_than_the_dispatch_deadline(pipeline: Harness, user_a,
                                                                           vertical_video) -> None:
    adapter = pipeline.rt.adapter("youtube")
    real_step = adapter.run_step
    held: list[tuple[str, timedelta]] = []

    def watched(step: str, job: Any, data: dict[str, Any]) -> Any:
        with pipeline.db.service() as conn:
            row = conn.execute("select lease_expires_at from publish_targets where id = %s",
                               (job.target_id,)).fetchone()
        held.append((step, row["lease_expires_at"] - pipeline.clock.now))
        return real_step(step, job, data)

    adapter.run_step = watched  # type: ignore[method-assign]
    answer = publish(pipeline, user_a, vertical_video, ["youtube"])
    pipeline.run()
    assert pipeline.target(answer["by_platform"]["youtube"])["state"] == "published"
    deadline = timedelta(seconds=queue_spec("publish-youtube").dispatch_deadline_s)
    assert deadline == timedelta(minutes=30)
    assert held and all(lease > deadline for _, lease in held), held
