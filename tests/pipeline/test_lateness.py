"""The lateness scenario at suite size (bench/lateness_bench.py runs it at 100 posts per mode).

Asserts what the scenario must show whatever the timings: every target goes live, none before its
slot; staged, YouTube and Facebook (which publish by themselves at the slot) and Instagram (only
media_publish at the slot) go live at the slot, while started at the slot they go live only after
their processing.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tests.conftest import make_user
from tests.pipeline import lateness
from tests.support.stack import Clock, Harness, configure_env

POSTS = int(os.environ.get("LATENESS_POSTS", "4"))
STAGED = os.environ.get("LATENESS_STAGED", "both")
# Different days per mode: YouTube's daily buckets (per Pacific day) must not mix the runs.
SLOTS = {True: datetime(2026, 12, 3, 9, 0, tzinfo=UTC), False: datetime(2026, 12, 6, 9, 0, tzinfo=UTC)}
MODES = [m for m in (True, False) if STAGED in ("both", "on" if m else "off")]


@pytest.mark.parametrize("staged", MODES, ids=lambda m: "staged" if m else "at_slot")
def test_scheduled_targets_go_live_at_the_slot_when_staged(db, sandbox, local_storage, monkeypatch, vertical_video,
                                                           make_app, staged: bool) -> None:
    configure_env(monkeypatch, sandbox.url, local_storage.root.parent)
    lateness.configure(monkeypatch, staged=staged)
    harness = Harness(db, sandbox, local_storage, Clock())
    make_app.install(harness.app)
    users = [make_user(db) for _ in range(-(-POSTS // lateness.POSTS_PER_USER))]
    figures = lateness.run(harness, vertical_video, posts=POSTS, slot=SLOTS[staged], users=users)
    print("lateness", "staged" if staged else "at_slot", figures)
    for platform, found in figures.items():
        assert found["published"] == found["targets"] == POSTS, (platform, found)
        assert found["early"] == 0, (platform, found)
    for platform in ("youtube", "facebook", "instagram"):
        low = lateness.PROCESSING_RANGES[platform][0]
        if staged:
            assert figures[platform]["live_p99"] == 0.0, (platform, figures[platform])
        else:
            assert figures[platform]["live_p50"] >= low, (platform, figures[platform])
