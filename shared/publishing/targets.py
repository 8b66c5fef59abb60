"""Every statement that changes a row of `publish_targets`, in one module.

Each function is one action of the state machine in `shared.publishing.states`
(`TRANSITIONS`): it says which action it is, and a state it writes is checked
against the table first (a move the table does not allow is a programming error,
`states.TransitionError`). The user's cancel and retry run the SQL functions
`cancel_target` and `retry_target` (security definer: users hold no write privilege
on targets), whose state lists a test compares with the derived sets.

Nothing outside this module writes a target (tests/publishing/test_state_sets.py
greps for it): the publishing service, the worker and the tick call in here,
connections resume parked targets through the `resume_after_reconnect` hook handed
to them, and analytics moves `metrics_due_at` through `claim_metrics_due` and
`set_metrics_due`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db.database import Conn, server_writes
from shared.publishing.states import RUNNABLE, State, TransitionError, check, destinations

# Which action of `states.TRANSITIONS` each function below is (the test enumerates them).
ACTIONS: dict[str, tuple[str, ...]] = {}


def _action(*names: str) -> Any:
    def register(fn: Any) -> Any:
        ACTIONS[fn.__name__] = names
        return fn
    return register


# Columns a pipeline outcome may set (`record`): never the owner, post or platform of a target.
_OUTCOME_COLUMNS = frozenset({
    "state", "attempts", "next_attempt_at", "lease_owner", "lease_expires_at", "step_data", "error_code",
    "error_class", "user_message", "platform_post_id", "platform_url", "published_at", "task_seq",
})

# ------------------------------------------------------------------------------ creation and the user's changes

@_action("create")
def create(conn: Conn, values: Mapping[str, Any]) -> dict[str, Any]:
    """Insert one target (the schedule trigger makes it `scheduled` when its time is ahead)."""
    columns = list(values)
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("insert into publish_targets ({}) values ({}) "
                    "returning id, platform, state, task_seq, next_attempt_at").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns))),
            [Jsonb(v) if isinstance(v, dict) else v for v in values.values()],
        ).fetchone()
    assert row is not None
    check("create", None, row["state"])
    return dict(row)


def _assignments(values: Mapping[str, Any]) -> sql.Composed:
    """`col = %s, ...` for the user's choices; consent is only ever added, never cleared."""
    return sql.SQL(", ").join(
        sql.SQL("consent = coalesce(%s, consent)") if name == "consent" else sql.SQL("{} = %s").format(
            sql.Identifier(name)) for name in values)


@_action("edit")
def edit(conn: Conn, target_id: str, user_id: str, values: Mapping[str, Any], returning: sql.Composable
         ) -> dict[str, Any] | None:
    """Change what the user chose, only while the target is scheduled and not staged yet."""
    assignments = _assignments(values)
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("update publish_targets set {} where id = %s and user_id = %s and state = {} "
                    "and not (step_data ? 'staged') returning {}").format(
                assignments, sql.Literal(str(State.SCHEDULED)), returning),
            (*values.values(), target_id, user_id),
        ).fetchone()
    return None if row is None else dict(row)


@_action("edit")
def edit_staged(conn: Conn, target_id: str, user_id: str, values: Mapping[str, Any], step_data: Mapping[str, Any],
                returning: sql.Composable) -> dict[str, Any] | None:
    """Change what the user chose of a target staged on its platform; `step_data` replaces its step
    data so the worker updates (or removes and re-stages) the staged object next."""
    assignments = _assignments(values)
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("update publish_targets set {}, step_data = %s where id = %s and user_id = %s and state = {} "
                    "and step_data ? 'staged' returning {}").format(
                assignments, sql.Literal(str(State.SCHEDULED)), returning),
            (*values.values(), Jsonb(dict(step_data)), target_id, user_id),
        ).fetchone()
    return None if row is None else dict(row)


@_action("edit")
def set_due(conn: Conn, target_id: str, due: datetime, returning: sql.Composable) -> dict[str, Any] | None:
    """When an edited scheduled target starts (its slot, or its staging lead time before it)."""
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("update publish_targets set next_attempt_at = %s where id = %s and state = {} "
                    "returning {}").format(sql.Literal(str(State.SCHEDULED)), returning),
            (due, target_id),
        ).fetchone()
    return None if row is None else dict(row)


@_action("start_now")
def start_now(conn: Conn, target_id: str, now: datetime, returning: sql.Composable) -> dict[str, Any] | None:
    """A scheduled target switched to "publish now": queued with a new task number (older tasks no-op)."""
    check("start_now", State.SCHEDULED, State.QUEUED)
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("update publish_targets set state = {}, scheduled_at = null, next_attempt_at = %s, "
                    "task_seq = task_seq + 1 where id = %s and state = {} returning task_seq, {}").format(
                sql.Literal(str(State.QUEUED)), sql.Literal(str(State.SCHEDULED)), returning),
            (now, target_id),
        ).fetchone()
    return None if row is None else dict(row)


@_action("reschedule")
def bump_scheduled(conn: Conn, target_id: str) -> dict[str, Any] | None:
    """After an edit: a new task number for a scheduled target (its old task becomes a no-op)."""
    row = conn.execute(
        sql.SQL("update publish_targets set task_seq = task_seq + 1 where id = %s and state = {} "
                "returning id, platform, state, task_seq, next_attempt_at").format(sql.Literal(str(State.SCHEDULED))),
        (target_id,),
    ).fetchone()
    return None if row is None else dict(row)


@_action("hold_for_slot")
def hold_for_slot(conn: Conn, target_id: str, *, source: str, slot: datetime,
                  message: str) -> dict[str, Any] | None:
    """A target that must not stage ahead: scheduled, due at its slot, with a new task number, and why."""
    check("hold_for_slot", source, State.SCHEDULED)
    row = conn.execute(
        "update publish_targets set state = %s, next_attempt_at = %s, task_seq = task_seq + 1, user_message = %s "
        "where id = %s and state = %s returning task_seq",
        (str(State.SCHEDULED), slot, message, target_id, str(source)),
    ).fetchone()
    return None if row is None else dict(row)


@_action("cancel")
def cancel(conn: Conn, target_id: str) -> dict[str, Any] | None:
    """The user's cancel, in the user's transaction (the SQL function checks owner and state)."""
    return _by_sql_function(conn, "cancel", "cancel_target", target_id)


@_action("unstage")
def mark_unstage(conn: Conn, target_id: str, now: datetime) -> dict[str, Any]:
    """A canceled target whose staged object would still go out on the platform: the worker removes it."""
    with server_writes(conn):
        row = conn.execute(
            sql.SQL("update publish_targets set step_data = step_data || %s, "
                    "next_attempt_at = %s, task_seq = task_seq + 1 where id = %s and state = {} "
                    "returning *").format(sql.Literal(str(State.CANCELED))),
            (Jsonb({"unstage": True}), now, target_id),
        ).fetchone()
    assert row is not None
    return dict(row)


@_action("retry")
def retry(conn: Conn, target_id: str) -> dict[str, Any] | None:
    """The user's retry of a failed target, in the user's transaction (the SQL function checks)."""
    return _by_sql_function(conn, "retry", "retry_target", target_id)


def _by_sql_function(conn: Conn, action: str, function: str, target_id: str) -> dict[str, Any] | None:
    """Run the SQL function that does `action` (None: not the user's, or not in a state it applies to);
    what it wrote must be one of the action's destinations."""
    row = conn.execute(sql.SQL("select * from {}(%s)").format(sql.Identifier(function)), (target_id,)).fetchone()
    if row is None or row["id"] is None:
        return None
    if State(row["state"]) not in destinations(action):
        raise TransitionError(f"{action} left a target {row['state']}")
    return dict(row)


@_action("resume_after_reconnect")
def resume_after_reconnect(conn: Conn, connection_id: str) -> list[str]:
    """Targets that waited for this connection go back in the queue, due now (the reconnect hook)."""
    check("resume_after_reconnect", State.NEEDS_RECONNECT, State.QUEUED)
    rows = conn.execute(
        sql.SQL("""
        update publish_targets
           set state = {queued}, next_attempt_at = now(), attempts = 0,
               -- a fresh task name: Cloud Tasks refuses to run a name it saw within the hour
               task_seq = task_seq + 1,
               error_code = null, error_class = null, user_message = null,
               lease_owner = null, lease_expires_at = null
         where connection_id = %s and state = {parked}
        returning id
        """).format(queued=sql.Literal(str(State.QUEUED)), parked=sql.Literal(str(State.NEEDS_RECONNECT))),
        (connection_id,),
    ).fetchall()
    return [str(r["id"]) for r in rows]


# ------------------------------------------------------------------------------ the worker


@_action("claim", "claim_follow_up")
def take_lease(conn: Conn, target_id: str, *, source: str, state: State, lease: str, until: datetime,
               step_data: Mapping[str, Any]) -> None:
    """The claim, under the row lock the worker's read took: the state of the step about to run."""
    check("claim_follow_up" if state == source and state not in RUNNABLE else "claim", source, state)
    conn.execute(
        "update publish_targets set state = %s, lease_owner = %s, lease_expires_at = %s, step_data = %s "
        "where id = %s",
        (str(state), lease, until, Jsonb(dict(step_data)), target_id),
    )


@_action("defer")
def defer(conn: Conn, target_id: str, *, source: str, retry_at: datetime, seq: int, code: str,
          message: str) -> None:
    """A budget is used up before the step called the platform: due again when it frees up."""
    check("defer", source, State.DEFERRED)
    conn.execute(
        "update publish_targets set state = %s, next_attempt_at = %s, task_seq = %s, "
        "error_class = 'quota', error_code = %s, user_message = %s where id = %s",
        (str(State.DEFERRED), retry_at, seq, code, message, target_id),
    )


@_action("record_success", "record_failure", "record_follow_up")
def record(conn: Conn, action: str, target_id: str, *, source: str, lease: str | None,
           fields: Mapping[str, Any], bump: bool = False, returning: str = "task_seq") -> dict[str, Any] | None:
    """A step's outcome. With `lease`: only while the lease is still ours (None: lease lost).

    The update checks the lease in its own `where` (it takes the row lock as it runs): one round
    trip instead of a locking read followed by the write.
    """
    unknown = set(fields) - _OUTCOME_COLUMNS
    assert not unknown, f"an outcome may not set {sorted(unknown)}"
    if action not in ("record_success", "record_failure", "record_follow_up"):
        raise ValueError(action)
    check(action, source, fields.get("state", source))
    values = [Jsonb(v) if name == "step_data" else v for name, v in fields.items()]
    assignments: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(name)) for name in fields]
    if bump:
        assignments.append(sql.SQL("task_seq = task_seq + 1"))
    where = sql.SQL("id = %s and lease_owner = %s") if lease is not None else sql.SQL("id = %s")
    row = conn.execute(
        sql.SQL("update publish_targets set {} where {} returning {}").format(
            sql.SQL(", ").join(assignments), where, sql.SQL(returning)),
        (*values, target_id, *((lease,) if lease is not None else ())),
    ).fetchone()
    return None if row is None else dict(row)


def lock_if_ours(conn: Conn, target_id: str, lease: str) -> dict[str, Any] | None:
    """The row lock before a failure is recorded, while the lease is still ours (None otherwise)."""
    row = conn.execute(
        "select id, task_seq, lease_owner, scheduled_at, user_id, post_id, platform, connection_id "
        "from publish_targets where id = %s for update",
        (target_id,),
    ).fetchone()
    return dict(row) if row is not None and row["lease_owner"] == lease else None


@_action("say")
def say(conn: Conn, target_id: str, message: str) -> None:
    """A message for the user while a step works (EC-2: the video is being converted)."""
    conn.execute("update publish_targets set user_message = %s where id = %s", (message, target_id))


# ------------------------------------------------------------------------------ the tick

_CLAIM_DUE = sql.SQL("""
with due as (
  select id from publish_targets
   where state = any(%(runnable)s)
     and next_attempt_at <= %(stale)s
     and (lease_expires_at is null or lease_expires_at < %(now)s)
   order by next_attempt_at
   limit %(limit)s
   for update skip locked
)
update publish_targets t
   set task_seq = t.task_seq + 1,
       state = case when t.state = {scheduled} then {queued} else t.state end,
       next_attempt_at = %(now)s,
       lease_owner = null, lease_expires_at = null
  from due
 where t.id = due.id
returning t.id, t.platform, t.task_seq
""").format(scheduled=sql.Literal(str(State.SCHEDULED)), queued=sql.Literal(str(State.QUEUED)))


def _claim_follow_ups(state: State) -> sql.Composed:
    """Targets already final whose follow-up task went missing: a published target's link read
    (index publish_targets_link_due_idx) or a canceled target's staged object still to remove
    (index publish_targets_unstage_due_idx). The state is written into the statement, not passed
    as a parameter, so the planner matches it to that partial index."""
    return sql.SQL("""
with due as (
  select id from publish_targets
   where state = {state} and next_attempt_at is not null
     and next_attempt_at <= %(stale)s
     and (lease_expires_at is null or lease_expires_at < %(now)s)
   order by next_attempt_at
   limit %(limit)s
   for update skip locked
)
update publish_targets t
   set task_seq = t.task_seq + 1, next_attempt_at = %(now)s, lease_owner = null, lease_expires_at = null
  from due
 where t.id = due.id
returning t.id, t.platform, t.task_seq
""").format(state=sql.Literal(str(state)))


_CLAIM_LINKS = _claim_follow_ups(State.PUBLISHED)
_CLAIM_UNSTAGE = _claim_follow_ups(State.CANCELED)


@_action("requeue")
def requeue_stranded(conn: Conn, *, now: datetime, stale: datetime, limit: int) -> list[dict[str, Any]]:
    """The tick's safety net: stranded runnable targets, then follow-ups, get a new task number.

    The runnable list must match the partial index publish_targets_due_idx (a test checks it).
    """
    check("requeue", State.SCHEDULED, State.QUEUED)
    params: dict[str, Any] = {"runnable": sorted(RUNNABLE), "now": now, "stale": stale, "limit": limit}
    rows = conn.execute(_CLAIM_DUE, params).fetchall()
    for statement in (_CLAIM_LINKS, _CLAIM_UNSTAGE):
        params["limit"] = max(0, limit - len(rows))
        if params["limit"]:
            rows += conn.execute(statement, params).fetchall()
    return [dict(row) for row in rows]


# ------------------------------------------------------------------------------ analytics


@_action("mark_metrics_due")
def claim_metrics_due(conn: Conn, *, now: datetime, limit: int, lease_until: datetime) -> list[dict[str, Any]]:
    """Published targets whose metrics are due, moved to `lease_until` so no other collector takes them."""
    rows = conn.execute(
        "with due as ("
        "  select id from publish_targets where metrics_due_at <= %(now)s"
        "  order by metrics_due_at limit %(limit)s for update skip locked"
        ") update publish_targets t set metrics_due_at = %(lease)s from due where t.id = due.id "
        "returning t.id, t.user_id, t.platform, t.connection_id, t.platform_post_id, t.published_at",
        {"now": now, "limit": limit, "lease": lease_until},
    ).fetchall()
    return [dict(row) for row in rows]


@_action("mark_metrics_due")
def set_metrics_due(conn: Conn, target_id: Any, due: datetime | None) -> None:
    """When a published target's metrics are read next (None: never again)."""
    conn.execute(
        sql.SQL("update publish_targets set metrics_due_at = %s where id = %s and state = {}").format(
            sql.Literal(str(State.PUBLISHED))),
        (due, target_id),
    )
