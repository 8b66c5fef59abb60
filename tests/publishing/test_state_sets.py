"""The state machine has one home: the database names exactly the sets `states` derives from
its transition table, and nothing but `shared/publishing/targets.py` writes a target."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from shared.publishing import states, targets
from shared.publishing.states import State

ROOT = Path(__file__).resolve().parents[2]


def _quoted(text: str) -> set[str]:
    return set(re.findall(r"'([a-z_]+)'", text))


def _function(db, name: str) -> str:
    with db.service() as conn:
        row = conn.execute("select pg_get_functiondef(%s::regprocedure) as body", (name,)).fetchone()
    return str(row["body"])


def test_the_check_constraint_names_every_state(db) -> None:
    with db.service() as conn:
        [definition] = [row["def"] for row in conn.execute(
            "select pg_get_constraintdef(c.oid) as def from pg_constraint c "
            "where c.conrelid = 'public.publish_targets'::regclass and c.contype = 'c' "
            "and pg_get_constraintdef(c.oid) like '%%(state %%'")]
    assert _quoted(definition) == set(State)


def test_the_due_index_holds_exactly_the_runnable_states(db) -> None:
    with db.service() as conn:
        row = conn.execute("select indexdef from pg_indexes where indexname = 'publish_targets_due_idx'").fetchone()
    predicate = str(row["indexdef"]).split(" WHERE ", 1)[1]
    assert _quoted(predicate) == states.RUNNABLE


def test_the_parked_index_holds_the_state_a_reconnect_resumes(db) -> None:
    with db.service() as conn:
        row = conn.execute("select indexdef from pg_indexes where indexname = 'publish_targets_parked_idx'").fetchone()
    assert _quoted(str(row["indexdef"]).split(" WHERE ", 1)[1]) == states.sources("resume_after_reconnect")


def test_cancel_target_cancels_exactly_the_cancelable_states(db) -> None:
    body = _function(db, "public.cancel_target(uuid)")
    [listed] = re.findall(r"state in \(([^)]*)\)", body)
    assert _quoted(listed) == states.CANCELABLE
    [written] = re.findall(r"set state = '([a-z_]+)'", body)
    assert {written} == states.destinations("cancel")
    # The same guards as `states.cancelable`: a started queued target, an unknown outcome.
    assert "state <> 'queued' or (step_data = '{}'::jsonb and lease_owner is null)" in body
    assert "not (step_data ? 'pending_call')" in body


def test_retry_target_retries_exactly_the_retryable_states(db) -> None:
    body = _function(db, "public.retry_target(uuid)")
    [listed] = re.findall(r"and state = '([a-z_]+)'", body)
    assert {listed} == states.RETRYABLE
    written = re.search(r"set state = (case .*? end)", body, re.S)
    assert written is not None
    assert _quoted(written.group(1)) & set(State) == states.destinations("retry")


@pytest.mark.parametrize("function", ["publish_targets_signal()", "signal_batch_if_complete(uuid)"])
def test_what_the_events_count_as_final_is_the_terminal_set(db, function: str) -> None:
    body = _function(db, f"public.{function}")
    lists = [_quoted(found) for found in re.findall(r"state not in \(([^)]*)\)", body)]
    assert lists and all(found == states.TERMINAL for found in lists)


def test_cancelable_in_python_agrees_with_cancel_target(db, user_a) -> None:
    """Every state with each guard: the view's `can_cancel` is what the SQL function does."""
    from psycopg.types.json import Jsonb

    with db.service() as conn:
        conn.execute("insert into social_connections (user_id, platform, platform_account_id, status) "
                     "values (%s, 'tiktok', 'acct-state-sets', 'connected')", (user_a["sub"],))
    cases = [(state, data, lease) for state in State for data in ({}, {"step": "x"}, {"pending_call": {}})
             for lease in (None, "worker")]
    with db.service() as conn:
        connection = conn.execute("select id from social_connections where platform_account_id = "
                                  "'acct-state-sets'").fetchone()["id"]
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) "
                             "returning id", (user_a["sub"], f"{user_a['sub']}/state-sets.mp4")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'x') returning id",
                            (user_a["sub"], video)).fetchone()["id"]
        # Never due (another test's tick must not pick these up), and removed at the end.
        ids = [conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, state, step_data, lease_owner, "
            "next_attempt_at) values (%s, %s, %s, 'tiktok', %s, %s, %s, 'infinity') returning id",
            (user_a["sub"], post, connection, str(state), Jsonb(data), lease)).fetchone()["id"]
            for state, data, lease in cases]
    found = {}
    try:
        with db.user(user_a) as conn:
            for target_id, (state, data, lease) in zip(ids, cases, strict=True):
                row = conn.execute("select * from cancel_target(%s)", (target_id,)).fetchone()
                found[(state, str(data), lease)] = row is not None and row["id"] is not None
    finally:
        with db.service() as conn:
            conn.execute("delete from posts where id = %s", (post,))
    expected = {(state, str(data), lease): states.cancelable(state, data, lease) for state, data, lease in cases}
    assert found == expected


# ------------------------------------------------------------------------------ the table and targets.py


def test_every_action_of_targets_py_is_in_the_table_and_every_move_has_a_function() -> None:
    declared = {action for actions in targets.ACTIONS.values() for action in actions}
    assert declared <= set(states.TRANSITIONS)
    # Every move of the table is made by a function of targets.py (the worker's claim included).
    assert set(states.TRANSITIONS) == declared


def test_the_derived_sets() -> None:
    assert {State.PUBLISHED, State.FAILED, State.CANCELED} == states.TERMINAL
    assert {State.SCHEDULED, State.QUEUED, State.UPLOADING, State.PROCESSING,
                               State.PUBLISHING, State.DEFERRED, State.RECONCILING} == states.RUNNABLE
    assert {State.SCHEDULED, State.QUEUED, State.DEFERRED, State.NEEDS_RECONNECT} == states.CANCELABLE
    assert states.EDITABLE == states.NOT_STARTED == {State.SCHEDULED}
    assert {State.FAILED} == states.RETRYABLE
    # Every state is reachable from a new target.
    reached, frontier = set(), set(states.destinations("create"))
    while frontier:
        reached |= frontier
        frontier = {b for a, b in set().union(*states.TRANSITIONS.values()) if a in frontier} - reached
    assert reached == set(State)


def test_a_move_outside_the_table_is_a_programming_error(db) -> None:
    with pytest.raises(states.TransitionError), db.service() as conn:
        targets.record(conn, "record_failure", "00000000-0000-0000-0000-000000000000", source=State.PUBLISHED,
                       lease="x", fields={"state": State.QUEUED})
    with pytest.raises(states.TransitionError), db.service() as conn:
        targets.take_lease(conn, "00000000-0000-0000-0000-000000000000", source=State.FAILED,
                           state=State.UPLOADING, lease="x", until=None, step_data={})  # type: ignore[arg-type]


def _writers() -> list[str]:
    """Files under shared/ and functions/ with a statement that writes publish_targets."""
    found = subprocess.run(
        ["grep", "-rliE", r"(update|insert into|delete from)\s+(public\.)?publish_targets", "shared", "functions",
         "--include=*.py"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    return sorted(found)


def test_only_targets_py_writes_publish_targets() -> None:
    assert _writers() == ["shared/publishing/targets.py"]


def test_the_state_column_is_written_only_with_checked_states() -> None:
    """targets.py writes no state literal it did not take from `State` (no stray 'queued')."""
    source = (ROOT / "shared/publishing/targets.py").read_text()
    tree = ast.parse(source)
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not any(re.search(rf"state\s*=\s*'{state}'", text) for text in literals for state in State)


def test_no_adapter_reads_the_pipelines_step_data() -> None:
    """Adapters get their own part of the step data; the pipeline's keys never reach them."""
    from shared.publishing.worker import PIPELINE_KEYS

    found = subprocess.run(
        ["grep", "-rnoE", "[\"'](" + "|".join(sorted(PIPELINE_KEYS)) + ")[\"']", "shared/platforms",
         "--include=*.py"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    assert found == []
