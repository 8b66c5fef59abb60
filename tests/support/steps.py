"""Run a publisher's steps the way the worker does, and plant sandbox faults: the platform tests' shared helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sandbox.core import Fault, Sandbox
from shared.platforms.base import PublishedPost, PublishJob, StepOutcome


def step_clock() -> datetime:
    """The clock an adapter test hands its steps: the wall clock, which the sandboxes' own waits run on."""
    return datetime.now(UTC)


def publish_job(**fields: Any) -> PublishJob:
    """A job as the worker hands one to a step: stamped with the clock's reading (`now`) unless given."""
    return PublishJob(**{"now": step_clock(), **fields})


def drive(adapter: Any, job: PublishJob, step: str | None = None, data: dict | None = None, limit: int = 60,
          *, wait_cap: float = 0.0) -> tuple[StepOutcome, dict]:
    """Run steps like the worker: merge each outcome's data, follow next_step until done; each step's job
    carries the clock's reading when it starts (`job.now`).

    The wait an outcome asks for is honoured up to `wait_cap` seconds (the sandboxes' clocks are short).
    """
    data = dict(data or {})
    step = step or adapter.first_step
    for _ in range(limit):
        # Each step gets the clock's reading when it starts, as the worker hands it.
        outcome = adapter.run_step(step, replace(job, now=step_clock()), data)
        data.update(outcome.data)
        if outcome.next_step is None:
            return outcome, data
        if wait_cap:
            time.sleep(min(outcome.wait_seconds, wait_cap))
        step = outcome.next_step
    raise AssertionError(f"not finished after {limit} steps, stuck at {step}")


def drive_to_published(adapter: Any, job: PublishJob, step: str | None = None, data: dict | None = None,
                       max_steps: int = 60) -> tuple[PublishedPost, dict, list[str]]:
    """Run steps until published, as the worker does (a repeated step waits 50 ms); also the steps that ran."""
    step = step or adapter.first_step
    data = dict(data or {})
    ran: list[str] = []
    for _ in range(max_steps):
        ran.append(step)
        outcome = adapter.run_step(step, replace(job, now=step_clock()), data)
        data.update(outcome.data)
        if outcome.published is not None:
            return outcome.published, data, ran
        assert outcome.next_step in adapter.steps
        if outcome.next_step == step:
            time.sleep(0.05)
        step = outcome.next_step
    raise AssertionError(f"not published after {max_steps} steps: {ran}")


def faults_on(platform: str) -> Callable[..., None]:
    """`add_fault(sb, operation, kind, **extra)` for one platform: the next `operation` call gets fault `kind`."""

    def add_fault(sb: Sandbox, operation: str, kind: str, **extra: Any) -> None:
        sb.add_fault(Fault(platform=platform, operation=operation, kind=kind, **extra))

    return add_fault
