"""Chaos in the suite: a few hundred targets over all five integrations (see tests/pipeline/chaos.py).

Every task is delivered two or three times, shuffled and concurrent; about 10% of platform
calls fail (the reconcile reads and auth failures with reconnects included); workers die
mid-call; the tick runs on a controlled clock until every target is final. Then: no double
post, no lost target, no target `failed` whose video is live.

CHAOS_POSTS sets the size (5 targets per post; default 40 = 200 targets), CHAOS_SEED the
run. A larger run is a benchmark: `python -m bench chaos` (BENCHMARKS.md).
"""

from __future__ import annotations

import os

from tests.pipeline.chaos import ChaosRun, timed
from tests.support.stack import Harness

POSTS = int(os.environ.get("CHAOS_POSTS", "40"))
SEED = int(os.environ.get("CHAOS_SEED", "20261130"))


def test_chaos_never_posts_twice_never_loses_never_fails_a_live_video(pipeline: Harness, vertical_video) -> None:
    run = ChaosRun(pipeline, seed=SEED, posts=POSTS, users=max(2, POSTS // 6))
    problems, figures = timed(run, vertical_video)
    print("chaos", figures)
    # The chaos really happened: most deliveries that are paced by the per-minute rates make no platform
    # call, so the faults are counted against the targets, not the deliveries.
    assert figures["faults_hit"] > 0.5 * figures["targets"], figures
    assert run.kills > 0 and run.reconnects > 0, figures
    assert {k: v for k, v in problems.items() if v} == {}, figures
    assert figures["states"].get("published", 0) > 0.8 * len(run.targets), figures
