"""The states of a publish target, the moves between them, and the retry policy.

`TRANSITIONS` is the whole state machine: for each action (a named change that
`shared.publishing.targets` makes, or the SQL function of the same name that it
checks against) the states it starts from and the states it may lead to. Every
set the code asks about (which states a task may advance, which a user may cancel,
edit or retry, which are final) is derived from it, and a test checks that the
database's check constraint, partial due index and user functions name exactly
those sets (tests/publishing/test_state_sets.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class State(StrEnum):
    SCHEDULED = "scheduled"              # waiting for its slot (or for its staging lead time)
    QUEUED = "queued"                    # due now; no step has run yet (or it starts over)
    UPLOADING = "uploading"              # the phases a step runs in (`Step.phase` of each platform)
    PROCESSING = "processing"
    PUBLISHING = "publishing"
    RECONCILING = "reconciling"          # asking the platform whether an irreversible call took effect
    DEFERRED = "deferred"                # a platform budget is used up: due when it frees up
    NEEDS_RECONNECT = "needs_reconnect"  # parked until the user reconnects the account
    PUBLISHED = "published"              # live (a follow-up step may still read its link)
    FAILED = "failed"                    # given up; the user may retry
    CANCELED = "canceled"                # by the user (a follow-up step may remove a staged object)


S = State
# The states a step runs in, as platforms declare them (`shared.platforms.base.Step.phase`).
PHASES = frozenset({S.UPLOADING, S.PROCESSING, S.PUBLISHING})
_WORKING = PHASES | {S.RECONCILING}
_FOLLOW_UPS = frozenset({S.PUBLISHED, S.CANCELED})   # final, with a follow-up step that may still run

Pair = tuple[State | None, State]   # (from, to); from None: the target is created


def _product(sources: Iterable[State | None], targets: Iterable[State]) -> frozenset[Pair]:
    return frozenset((source, target) for source in sources for target in targets)


def _same(states: Iterable[State]) -> frozenset[Pair]:
    """The action changes other columns only: the state stays what it is."""
    return frozenset((state, state) for state in states)


_STARTABLE = (S.SCHEDULED, S.QUEUED, S.DEFERRED, *_WORKING)

TRANSITIONS: Mapping[str, frozenset[Pair]] = {
    # A new target: due now, or waiting for its slot (the schedule trigger decides which).
    "create": _product((None,), (S.QUEUED, S.SCHEDULED)),
    # The worker takes a due target: the phase of the step it runs, or reconciling.
    "claim": _product(_STARTABLE, _WORKING),
    # ... or a final target's follow-up step (a link to read, a staged object to remove).
    "claim_follow_up": _same(_FOLLOW_UPS),
    # A budget is used up before the step calls the platform.
    "defer": _product(_STARTABLE, (S.DEFERRED,)),
    # A step went through: the next step's phase, waiting for the slot (staged), or live.
    "record_success": _product(_WORKING, PHASES | {S.SCHEDULED, S.PUBLISHED}) | _same((S.PUBLISHED,)),
    # A step failed: retry in its phase, ask the platform, wait for a budget, park for a
    # reconnect, start over with a converted video, or give up.
    "record_failure": _product(_WORKING, _WORKING | {S.DEFERRED, S.NEEDS_RECONNECT, S.QUEUED, S.FAILED}),
    # A follow-up step failed or removed the staged object: the state stays.
    "record_follow_up": _same(_FOLLOW_UPS),
    # The tick's safety net: a stranded target gets a new task (a scheduled one becomes queued).
    "requeue": _product((S.SCHEDULED,), (S.QUEUED,)) | _same(set(_STARTABLE) - {S.SCHEDULED} | _FOLLOW_UPS),
    # The user's changes (API): text and time while scheduled, publish now, cancel, retry.
    "edit": _same((S.SCHEDULED,)),
    "reschedule": _same((S.SCHEDULED,)),
    # A target due at its lead time whose connection cannot undo a staged object waits for its slot
    # (also when the tick re-queued it after its task was lost).
    "hold_for_slot": _product((S.SCHEDULED, S.QUEUED), (S.SCHEDULED,)),
    "start_now": _product((S.SCHEDULED,), (S.QUEUED,)),
    "cancel": _product((S.SCHEDULED, S.QUEUED, S.DEFERRED, S.NEEDS_RECONNECT), (S.CANCELED,)),
    "unstage": _same((S.CANCELED,)),
    "retry": _product((S.FAILED,), (S.QUEUED, S.RECONCILING)),
    # The user reconnected the account: parked targets are due again.
    "resume_after_reconnect": _product((S.NEEDS_RECONNECT,), (S.QUEUED,)),
    # Analytics: when a published target's metrics are read next.
    "mark_metrics_due": _same((S.PUBLISHED,)),
    # EC-2: the user reads that the video is being converted.
    "say": _same(_WORKING),
}


def sources(action: str) -> frozenset[State]:
    return frozenset(source for source, _ in TRANSITIONS[action] if source is not None)


def destinations(action: str) -> frozenset[State]:
    return frozenset(target for _, target in TRANSITIONS[action])


def allowed(action: str, source: State | str | None, target: State | str) -> bool:
    """May `action` move a target from `source` to `target`?"""
    return (None if source is None else State(source), State(target)) in TRANSITIONS[action]


class TransitionError(AssertionError):
    """A programming error: an action tried a move the table does not allow."""


def check(action: str, source: State | str | None, target: State | str) -> State:
    if not allowed(action, source, target):
        raise TransitionError(f"{action} may not move a target from {source} to {target}")
    return State(target)


# The sets the code asks about, derived from the table.
# A task may advance the target (the tick's safety net watches these; index publish_targets_due_idx).
RUNNABLE = sources("claim")
# The user may cancel, edit, retry it (the SQL functions cancel_target and retry_target).
CANCELABLE = sources("cancel")
EDITABLE = sources("edit")
RETRYABLE = sources("retry")
# Not started: nothing was sent to the platform yet, so the user may still change it.
NOT_STARTED = EDITABLE
# Final: nothing but the user's retry ever moves it to another state.
TERMINAL = frozenset(
    state for state in State
    if all(target == state or action == "retry"
           for action, pairs in TRANSITIONS.items() for source, target in pairs if source == state)
)


def cancelable(state: str, step_data: Mapping[str, Any] | None, lease_owner: str | None) -> bool:
    """May the user cancel it now? The same rule as the SQL function `cancel_target`.

    Besides the state: a queued target that already ran a step (step data) or is being run
    (a lease) has started; a target whose irreversible call has an unknown outcome
    (`pending_call`) may already be live, so it is asked about, never canceled.
    """
    data = step_data or {}
    if state not in CANCELABLE or "pending_call" in data:
        return False
    return state != State.QUEUED or (not data and lease_owner is None)


# Transient failures retry after 1, 5 and 15 minutes, then the target fails, unless the
# outcome of an irreversible call is unknown: then the platform is asked again, for a
# bounded time (PublishingSettings.reconcile_hours), and nothing is resent blindly.
RETRY_DELAYS_SECONDS = (60, 300, 900)
MAX_RETRIES = len(RETRY_DELAYS_SECONDS)


def retry_delay(failed_attempts: int) -> float | None:
    """Delay before retry number `failed_attempts` (1-based), or None when out of retries."""
    if 1 <= failed_attempts <= MAX_RETRIES:
        return float(RETRY_DELAYS_SECONDS[failed_attempts - 1])
    return None


def checking_message(platform: str) -> str:
    """What the user reads while we ask the platform whether a call took effect."""
    return f"We're checking with {platform} whether your video went live."


def unconfirmed_message(platform: str) -> str:
    """The final word when the platform never told us whether the video went live."""
    return (
        f"We couldn't confirm with {platform} whether your video went live. Please check your "
        f"{platform} profile: if the video is there, there is nothing more to do; if it is not, "
        "press Retry (we check once more before sending it again)."
    )
