"""`wait`: a publish request that answers with the final results once every platform is done.

The request does not poll. It listens on `publish_target_state` (a trigger notifies the
post's id whenever one of its platform posts changes state, migration
20261201040000_target_state_notify.sql) and re-reads the post only when told. How long
it may wait is measured on the runtime's clock, and the waiting itself is bounded by the
seconds asked for: a clock that stands still cannot hold a request longer than that.
A notification can be lost (a transaction pooler does not pass LISTEN through, a
connection drops), so the post is also re-read every `RECHECK_SECONDS` at the latest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import psycopg

from shared.publishing.runtime import Runtime
from shared.responses import PostView

CHANNEL = "publish_target_state"
RECHECK_SECONDS = 2.0


def wait_until_done(rt: Runtime, post_id: str, seconds: float,
                    read: Callable[[], PostView]) -> PostView | None:
    """`read()` (the post's view) once it says done, or None when `seconds` passed first."""
    deadline = rt.clock() + timedelta(seconds=seconds)
    budget = seconds  # the time this request may spend waiting in all
    # Its own connection: a pooled one is in a transaction, and LISTEN hears only between transactions.
    with psycopg.connect(rt.db.url, autocommit=True) as listener:
        listener.execute(f"listen {CHANNEL}")  # before the first read, so no change falls in between
        while True:
            view = read()
            if view.done:
                return view
            left = min((deadline - rt.clock()).total_seconds(), budget)
            if left <= 0:
                return None
            started = time.monotonic()
            for note in listener.notifies(timeout=min(left, RECHECK_SECONDS)):
                if note.payload == post_id:
                    break
            budget -= time.monotonic() - started
