"""Status polls that follow a platform's processing curve: short first waits, then longer ones.

A short vertical video is usually processed within seconds, so the first checks come
quickly (1, 2, 4 s, ...); a video still processing after that is a slow one, and the
waits grow to the platform's longest (its suggested polling interval), which keeps
the number of status calls per video small. Each platform declares its first and
longest wait in its settings (`poll_first_seconds`, `poll_seconds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Step data key: how many status checks of the current wait have been scheduled.
CHECKS = "status_checks"


def wait_before_check(checks_done: int, first: float, longest: float) -> float:
    """Seconds to wait before the next status check: `first` doubled per check done, at most `longest`."""
    return min(longest, first * 2 ** min(checks_done, 32))


def first_check(first: float, longest: float) -> tuple[dict[str, Any], float]:
    """(step data update, wait) when processing starts: the curve starts again."""
    return {CHECKS: 1}, wait_before_check(0, first, longest)


def next_check(data: Mapping[str, Any], first: float, longest: float) -> tuple[dict[str, Any], float]:
    """(step data update, wait) for one more status check of a video still processing."""
    done = int(data.get(CHECKS) or 0)
    return {CHECKS: done + 1}, wait_before_check(done, first, longest)
