"""The inline queue: schedule order, delays, duplicate names, tasks that enqueue tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.tasks.client import InlineQueue


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_runs_due_tasks_in_schedule_order_and_keeps_later_ones():
    clock, seen = Clock(), []
    queue = InlineQueue(lambda url, payload: seen.append((url, payload["n"])), clock=clock)
    queue.enqueue(queue="publish-youtube", task_id="c", url="/w", payload={"n": 3}, delay_seconds=300)
    queue.enqueue(queue="publish-youtube", task_id="a", url="/w", payload={"n": 1})
    queue.enqueue(queue="publish-tiktok", task_id="b", url="/t", payload={"n": 2}, delay_seconds=60)

    assert queue.run_due() == 1
    assert seen == [("/w", 1)]
    assert queue.run_due(clock.now + timedelta(seconds=60)) == 1
    assert seen[-1] == ("/t", 2)
    assert [t.task_id for t in queue.pending()] == ["c"]
    assert queue.drain() == 1
    assert [n for _, n in seen] == [1, 2, 3]


def test_duplicate_ids_are_ignored_like_cloud_tasks_even_after_delivery():
    seen = []
    queue = InlineQueue(lambda url, payload: seen.append(payload))
    assert queue.enqueue(queue="q", task_id="t1", url="/w", payload={"v": 1}) is True
    assert queue.enqueue(queue="q", task_id="t1", url="/w", payload={"v": 2}) is False
    queue.drain()
    assert queue.enqueue(queue="q", task_id="t1", url="/w", payload={"v": 3}) is False
    # Names are per queue, as in Cloud Tasks.
    assert queue.enqueue(queue="other", task_id="t1", url="/w", payload={"v": 4}) is True
    queue.drain()
    assert seen == [{"v": 1}, {"v": 4}]


def test_tasks_enqueued_by_a_task_run_in_the_same_drain():
    queue: InlineQueue
    seen = []

    def dispatch(url: str, payload: dict) -> None:
        seen.append(payload["step"])
        if payload["step"] < 3:
            queue.enqueue(queue="q", task_id=f"s{payload['step'] + 1}", url=url,
                          payload={"step": payload["step"] + 1}, delay_seconds=900)

    queue = InlineQueue(dispatch)
    queue.enqueue(queue="q", task_id="s1", url="/w", payload={"step": 1})
    assert queue.run_due() == 1  # the follow-up is 15 minutes away
    assert queue.drain() == 2
    assert seen == [1, 2, 3]


def test_payload_is_copied_as_json_and_invalid_names_are_refused():
    seen = []
    queue = InlineQueue(lambda url, payload: seen.append(payload))
    payload = {"items": [1]}
    queue.enqueue(queue="q", task_id="ok_1-A", url="/w", payload=payload)
    payload["items"].append(2)
    queue.drain()
    assert seen == [{"items": [1]}]
    with pytest.raises(ValueError):
        queue.enqueue(queue="q", task_id="bad/name", url="/w", payload={})


def test_a_failing_dispatch_surfaces_and_is_not_rerun():
    calls = []

    def dispatch(url: str, payload: dict) -> None:
        calls.append(payload)
        raise RuntimeError("handler crashed")

    queue = InlineQueue(dispatch)
    queue.enqueue(queue="q", task_id="t", url="/w", payload={})
    with pytest.raises(RuntimeError):
        queue.drain()
    assert queue.drain() == 0
    assert len(calls) == 1
