"""The tick drains a top-of-the-hour spike in one run: rounds of claims until nothing is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.publishing.runtime import Runtime
from shared.publishing.tick import enqueue_due
from shared.tasks.client import InlineQueue
from tests.conftest import make_user

SPIKE = 2500


def _spike(db, user: dict[str, str], slot: datetime) -> None:
    with db.service() as conn:
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1) returning id",
                             (user["sub"], f"{user['sub']}/spike.mp4")).fetchone()["id"]
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id) values (%s, 'youtube', %s) "
            "returning id", (user["sub"], f"spike-{user['sub'][:8]}")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'spike') returning id",
                            (user["sub"], video)).fetchone()["id"]
        conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, state, scheduled_at) "
            "select %s, %s, %s, 'youtube', 'scheduled', %s from generate_series(1, %s)",
            (user["sub"], post, connection, slot, SPIKE))


def test_one_tick_enqueues_every_due_target_of_a_spike(db, park_leftover_targets):
    user = make_user(db)
    slot = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)   # later than anything else in the session
    _spike(db, user, slot)
    queue = InlineQueue(lambda url, payload: None, clock=lambda: slot)
    rt = Runtime(db=db, queue=queue, credentials=None, media=None, adapter_for=None, frontend_url="",  # type: ignore[arg-type]
                 worker_url=lambda platform: f"http://worker/{platform}", connection_expired=None)  # type: ignore[arg-type]

    # Their slot tasks were lost: the safety net claims them once overdue by the stale limit.
    assert enqueue_due(rt, slot, limit=1000) == 0              # not at the slot: that is the tasks' job
    overdue = slot + timedelta(seconds=rt.stale_after_seconds)
    enqueued = enqueue_due(rt, overdue, limit=1000)

    mine = [t for t in queue.pending() if t.payload["target_id"]]
    with db.service() as conn:
        rows = conn.execute("select id, state, task_seq from publish_targets where user_id = %s",
                            (user["sub"],)).fetchall()
    assert enqueued >= SPIKE                                   # three rounds of 1,000 in one run
    ours = {str(r["id"]) for r in rows}
    tasks = [t for t in mine if t.payload["target_id"] in ours]
    assert len(tasks) == SPIKE and len({t.payload["target_id"] for t in tasks}) == SPIKE
    assert {r["state"] for r in rows} == {"queued"} and {r["task_seq"] for r in rows} == {1}
    assert all(t.payload["seq"] == 1 for t in tasks)
    assert enqueue_due(rt, overdue, limit=1000) == 0           # nothing is claimed twice
