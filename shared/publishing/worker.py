"""Advance one publish target by one step: what each Cloud Tasks delivery does.

The protocol that keeps "never twice, never lost" true under at-least-once delivery:

1. Claim, in one short transaction under the row lock: the delivery must carry the
   target's current `task_seq` (older or duplicate tasks are no-ops), the target
   must be runnable and not leased by a live worker. Take a lease. Before an
   irreversible step, record `pending_call` in the step data (and take the quota
   unit) *before* calling the platform.
2. Call the platform outside any transaction.
3. Record the outcome under the row lock, only if our lease is still ours; then
   enqueue the next step (a lost enqueue is re-done by the scheduler tick).

A target found with `pending_call` set (timeout, 5xx or crash during an
irreversible call) is reconciled: the adapter asks the platform, read-only,
whether the call took effect before anything is sent again. Only an answer of
that question clears the mark: any failure while asking (every error class, a
crash included) keeps it, so a target parked for a reconnect, deferred by a rate
limit or out of quick retries still reconciles before anything is resent. An
outcome that stays unknown is never `failed` early: the target stays
`reconciling` and is asked about for `PUBLISH_RECONCILE_HOURS`.

Once the platform confirms the video is live, the target is `published` at once;
an id or link still to be read is fetched by a follow-up step whose failures never
change that (the "link follow-up", `step_data.link_pending`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from psycopg import sql

from shared.db.database import Conn
from shared.log import bind_context, get_logger
from shared.platforms import messages
from shared.platforms.base import PlatformAdapter, PublishJob, StepOutcome
from shared.platforms.errors import ErrorClass, PlatformError, TransientError
from shared.publishing import quota, staging, states, targets, usage_holds
from shared.publishing.runtime import Runtime, utcnow
from shared.publishing.states import State

log = get_logger(__name__)

# A task may arrive slightly before its schedule time (clock skew between services).
EARLY_TOLERANCE = timedelta(seconds=5)

class Refusal(StrEnum):
    """Why a delivery did nothing (a successful no-op for Cloud Tasks)."""

    MISSING = "missing"            # no such target (deleted with its post)
    STALE = "stale"                # an older or duplicate task: the target has a newer task number
    NOT_RUNNABLE = "not_runnable"  # final, parked or canceled
    LEASED = "leased"              # a live worker holds it
    EARLY = "early"                # not due yet


class Outcome(StrEnum):
    """What a delivery that ran did."""

    DEFERRED = "deferred"          # a budget is used up: due again when it frees up
    STAGED = "staged"              # staged ahead of its slot; the going-live step waits for it
    PUBLISHED = "published"        # live now
    NEXT_STEP = "step"             # a step went through; the next one is enqueued
    LINK = "link"                  # a live target's link was read
    LINK_RETRY = "link_retry"      # reading the link failed; asked again later
    RETRY = "retry"                # a step failed; retried (or its outcome asked about) later
    CONVERTING = "converting"      # the platform refused the file; it starts over with a converted copy
    PARKED = "needs_reconnect"     # the connection expired; waits for the user to reconnect
    FAILED = "failed"              # given up
    AT_SLOT = "at_slot"            # its connection cannot undo a staged object: it starts at its slot instead
    UNSTAGED = "unstaged"          # a canceled target's staged object is gone from the platform
    UNSTAGE_RETRY = "unstage_retry"
    UNSTAGE_FAILED = "unstage_failed"
    LEASE_LOST = "lease_lost"      # another worker took over meanwhile; nothing was recorded


# Outcomes whose word (the task's answer, the tests' history) is the state they left the target in.
_SAYS_STATE = frozenset({Outcome.DEFERRED, Outcome.RETRY, Outcome.CONVERTING, Outcome.PARKED, Outcome.FAILED,
                         Outcome.LINK_RETRY})


@dataclass(frozen=True)
class Result:
    """A delivery's result: a refusal, or what it did with the state it left (and the next step)."""

    outcome: Outcome | Refusal
    state: State | None = None
    step: str | None = None

    @property
    def word(self) -> str:
        """The short word the worker answers with ("stale", "step:upload", "uploading", ...)."""
        if self.outcome is Outcome.NEXT_STEP:
            return f"step:{self.step}"
        if self.outcome in _SAYS_STATE and self.state is not None:
            return str(self.state)
        return str(self.outcome)


def _failure_outcome(state: State) -> Outcome:
    return {State.FAILED: Outcome.FAILED, State.NEEDS_RECONNECT: Outcome.PARKED, State.DEFERRED: Outcome.DEFERRED,
            State.QUEUED: Outcome.CONVERTING}.get(state, Outcome.RETRY)


# The claim reads, in the same round trip, what the step needs besides the target: the
# connection's token columns (for `credentials_for`) and the post's video with its
# renditions (for `media_for_target`), so a step runs two transactions, not four.
_CONNECTION_COLUMNS = ("user_id", "platform", "status", "access_token_ciphertext", "access_token_expires_at",
                       "scopes")
_VIDEO_COLUMNS = ("id", "user_id", "storage_path", "probe", "original_filename", "content_type", "deleted_at")


def _aliased(table: str, names: tuple[str, ...], prefix: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL("{}.{} as {}").format(sql.Identifier(table), sql.Identifier(name),
                                                             sql.Identifier(prefix + name)) for name in names)


_LOAD = sql.SQL("""
select t.*, p.caption as post_caption, p.hashtags as post_hashtags, p.video_id,
       c.platform_account_id, c.username, c.account_info, {connection}, {video},
       (select coalesce(json_agg(json_build_object('kind', r.kind, 'storage_path', r.storage_path,
                                                   'content_type', r.content_type, 'probe', r.probe)), '[]')
          from video_renditions r where r.video_id = p.video_id) as renditions
  from publish_targets t
  join posts p on p.id = t.post_id
  join social_connections c on c.id = t.connection_id
  left join videos v on v.id = p.video_id
 where t.id = %s
   for update of t
""").format(connection=_aliased("c", _CONNECTION_COLUMNS, "connection__"),
            video=_aliased("v", _VIDEO_COLUMNS, "video__"))
_TARGET_EXTRA = {f"connection__{n}" for n in _CONNECTION_COLUMNS} | {f"video__{n}" for n in _VIDEO_COLUMNS} \
    | {"renditions"}


@dataclass(frozen=True)
class Loaded:
    """What the claim read: the target row (with its post's caption and hashtags), its connection
    (for `Runtime.credentials`) and its post's video with the renditions (for `Runtime.media`)."""

    target: dict[str, Any]
    connection: dict[str, Any]
    video: dict[str, Any] | None
    renditions: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, row: dict[str, Any]) -> Loaded:
        target = {key: value for key, value in row.items() if key not in _TARGET_EXTRA}
        connection = {name: row[f"connection__{name}"] for name in _CONNECTION_COLUMNS} | {
            "id": row["connection_id"], "platform_account_id": row["platform_account_id"],
            "username": row["username"], "account_info": row["account_info"]}
        video = {name: row[f"video__{name}"] for name in _VIDEO_COLUMNS}
        renditions = {r["kind"]: r for r in row["renditions"] or ()}
        return cls(target, connection, video if video["id"] is not None else None, renditions)


@dataclass(frozen=True)
class Claimed:
    """A target this delivery holds the lease of, and the step it runs."""

    loaded: Loaded
    lease: str
    step: str
    state: State          # the state the claim left it in
    data: dict[str, Any]  # the step data the step starts from
    reconciling: bool     # the step first asks whether its earlier irreversible call took effect

    @property
    def target(self) -> dict[str, Any]:
        return self.loaded.target


# Step data has two parts in one JSON object: the pipeline's own keys (below) and what the
# adapter's steps returned (`StepOutcome.data`). Adapters see only their part; what they need
# of the pipeline's (when an unknown call was sent) comes on the job.
PIPELINE_KEYS = frozenset({"step", "pending_call", "watch_since", "link_pending", "staged", "unstage", "converted"})


def adapter_part(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in PIPELINE_KEYS}


def _call_sent_at(data: dict[str, Any]) -> datetime | None:
    pending = data.get("pending_call")
    try:
        return datetime.fromisoformat(str(pending["sent_at"])) if isinstance(pending, dict) else None
    except (KeyError, ValueError):
        return None


def _pending_call(step: str, now: datetime) -> dict[str, str]:
    """The "outcome unknown" mark, taken before an irreversible call.

    `at` is the pipeline's clock (for how long we keep asking); `sent_at` the wall clock,
    which adapters compare with the platform's own timestamps to find the post again.
    """
    return {"step": step, "at": now.isoformat(), "sent_at": utcnow().isoformat()}


def _reconnect_message(adapter: type[PlatformAdapter]) -> str:
    return messages.connection_expired(adapter.display_name)


def advance(rt: Runtime, target_id: str, seq: int | None = None) -> str:
    """Run one step of one target. Returns the short word saying what happened (`Result.word`)."""
    return deliver(rt, target_id, seq).word


def deliver(rt: Runtime, target_id: str, seq: int | None = None) -> Result:
    """Run one step of one target."""
    bind_context(target_id=target_id)
    claim = _claim(rt, target_id, seq)
    if not isinstance(claim, Claimed):
        return claim
    target, step, data = claim.target, claim.step, claim.data
    adapter = rt.adapter(target["platform"])
    # While an earlier irreversible call's outcome is unknown, a failure of any kind
    # (the credentials, the read-only question, a crash) leaves it unknown.
    unknown = claim.reconciling
    try:
        job = _job(rt, claim.loaded, _call_sent_at(data))
        outcome: StepOutcome | None = None
        if claim.reconciling:
            outcome = adapter.reconcile(step, job, adapter_part(data))
            log.info("reconciled", step=step, took_effect=outcome is not None)
            if outcome is None:
                if target["attempts"] > states.MAX_RETRIES:
                    # Known not live, and the quick retries are used up: fail now. The
                    # retry button sends it again.
                    return _fail_after_retries(rt, claim)
                # The platform says it did not act: the call is sent again, and its own
                # outcome is the one pending now.
                unknown = False
                data = {**data, "pending_call": _pending_call(step, rt.clock())}
        if outcome is None:
            outcome = adapter.run_step(step, job, adapter_part(data))
    except PlatformError as err:
        _share_usage_holds(rt, adapter)
        return _record_failure(rt, claim, data, err, unknown=unknown)
    except Exception as exc:  # a bug or an unexpected answer: never lose the target over it
        log.exception("step crashed", step=step)
        unexpected = TransientError(
            f"{type(adapter).display_name} did not answer as expected. We'll retry automatically.",
            platform=target["platform"],
            code="unexpected",
            detail=repr(exc)[:500],
        )
        _share_usage_holds(rt, adapter)
        return _record_failure(rt, claim, data, unexpected, unknown=unknown)
    _share_usage_holds(rt, adapter)
    return _record_success(rt, claim, data, outcome)


def _share_usage_holds(rt: Runtime, adapter: PlatformAdapter) -> None:
    """What the platform's usage headers said during the step, for every instance (usage_holds.py)."""
    holds = adapter.usage_holds(rt.clock())
    if not holds:
        return
    try:
        with rt.db.service() as conn:
            usage_holds.record(conn, adapter.key, holds, rt.clock())
    except Exception:  # this instance still holds them in memory; the step's outcome must be recorded
        log.exception("usage holds not shared")


def _claim(rt: Runtime, target_id: str, seq: int | None) -> Claimed | Result:
    now = rt.clock()
    lease = uuid.uuid4().hex
    with rt.db.service() as conn:
        row = conn.execute(_LOAD, (target_id,)).fetchone()
        if row is None:
            return Result(Refusal.MISSING)
        loaded = Loaded.of(row)
        target = loaded.target
        bind_context(post_id=target["post_id"], platform=target["platform"], user_id=target["user_id"])
        if seq is not None and target["task_seq"] != seq:
            return Result(Refusal.STALE)
        data = dict(target["step_data"] or {})
        # A published target whose link is still to be read runs its follow-up step.
        following_link = target["state"] == State.PUBLISHED and bool(data.get("link_pending"))
        adapter = type(rt.adapter(target["platform"]))
        # A canceled target whose staged object is still on the platform runs the step removing it.
        unstaging = target["state"] == State.CANCELED and bool(data.get("unstage")) and bool(adapter.unstage_step)
        if target["state"] not in states.RUNNABLE and not following_link and not unstaging:
            return Result(Refusal.NOT_RUNNABLE)
        if target["lease_expires_at"] is not None and target["lease_expires_at"] > now:
            return Result(Refusal.LEASED)
        if target["next_attempt_at"] is not None and target["next_attempt_at"] > now + EARLY_TOLERANCE:
            return Result(Refusal.EARLY)
        reconciling = "pending_call" in data and not following_link and not unstaging
        if unstaging:
            step = str(adapter.unstage_step)
        else:
            step = data["pending_call"]["step"] if reconciling else data.get("step") or adapter.first_step
        phase = State.RECONCILING if reconciling else State(adapter.steps[step].phase)
        state = State.PUBLISHED if following_link else State.CANCELED if unstaging else phase
        if target["state"] in (State.SCHEDULED, State.QUEUED) and not reconciling \
                and staging.starts_at_slot(adapter, target, loaded.connection["scopes"], step, now):
            return _hold_for_slot(rt, conn, target, now)
        deferral: quota.QuotaDeferral | None = None
        irreversible = adapter.steps[step].irreversible
        # The budget unit is taken before the first call of all (reserve is idempotent per
        # target), not only before the first irreversible one: some calls that precede it
        # already spend the platform's budget (YouTube counts videos.insert when the upload
        # session opens), and a target over budget should not call the platform at all (NFR-6).
        if (irreversible or step == adapter.first_step) and not reconciling and not following_link \
                and not unstaging:
            try:
                quota.reserve(
                    conn,
                    adapter,
                    account_id=target["platform_account_id"],
                    user_id=str(target["user_id"]),
                    target_id=target_id,
                    now=now,
                )
                if irreversible:
                    data["pending_call"] = _pending_call(step, now)
            except quota.QuotaDeferral as found:
                deferral = found
        if deferral is None and not unstaging:
            # Per-minute rates (TikTok: 6 inits, 30 status checks a minute): before every step, and
            # before a reconcile that makes a limited call (TikTok reads status/fetch).
            try:
                quota.pace(conn, adapter, step=step, account_id=target["platform_account_id"],
                           user_id=str(target["user_id"]), target_id=target_id, now=now,
                           reconciling=reconciling)
            except quota.QuotaDeferral as found:
                deferral = found
        if deferral is None and not unstaging and not following_link:
            try:  # another instance heard from the platform that the app or this account is near its limit
                usage_holds.check(conn, rt.adapter(target["platform"]), target["platform_account_id"], now)
            except quota.QuotaDeferral as found:
                deferral = found
        if deferral is not None:
            seq_next = target["task_seq"] + 1
            targets.defer(conn, target_id, source=target["state"], retry_at=deferral.retry_at, seq=seq_next,
                          code=deferral.rule.name, message=deferral.message)
        else:
            targets.take_lease(conn, target_id, source=target["state"], state=state, lease=lease,
                               until=now + timedelta(seconds=rt.lease_for(target["platform"])), step_data=data)
    if deferral is not None:
        rt.enqueue(target_id, target["platform"], seq_next, (deferral.retry_at - now).total_seconds())
        log.info("deferred by budget", retry_at=deferral.retry_at.isoformat())
        return Result(Outcome.DEFERRED, State.DEFERRED)
    return Claimed(loaded, lease, step, state, data, reconciling)


def _hold_for_slot(rt: Runtime, conn: Conn, target: dict[str, Any], now: datetime) -> Result:
    """Not staged (the connection could not undo it): due at the slot, the user told why and what helps.

    The slot's task is made before the claim's transaction commits: a failed commit leaves that task
    stale (a no-op) and the target due at its lead time, so the tick re-does it."""
    slot = target["scheduled_at"]
    message = staging.reconnect_to_stage_message(rt.adapter(target["platform"]).display_name)
    row = targets.hold_for_slot(conn, str(target["id"]), source=target["state"], slot=slot, message=message)
    if row is None:
        return Result(Refusal.NOT_RUNNABLE)
    _mail_reconnect_hint(conn, target, rt.frontend_url)
    rt.enqueue(str(target["id"]), target["platform"], row["task_seq"], (slot - now).total_seconds())
    log.info("starts at the slot: the connection cannot undo a staged post", slot=slot.isoformat())
    return Result(Outcome.AT_SLOT, State.SCHEDULED)


def _mail_reconnect_hint(conn: Conn, target: dict[str, Any], frontend_url: str) -> None:
    """Once per connection, by mail: reconnecting makes its scheduled posts go live exactly on time."""
    # Imported here: only this rare path mails from the worker.
    from shared.notify import templates
    from shared.notify.outbox import queue_email

    kind = templates.RECONNECT_FOR_EXACT_TIME
    subject, body = templates.reconnect_for_exact_time(
        platform=target["platform"], account=str(target["username"] or target["platform_account_id"]),
        frontend_url=frontend_url)
    queue_email(conn, user_id=str(target["user_id"]), kind=kind, subject=subject, body=body,
                dedupe_key=templates.dedupe_key(kind, target["connection_id"]))


def _job(rt: Runtime, loaded: Loaded, call_sent_at: datetime | None) -> PublishJob:
    target = loaded.target
    credentials = rt.credentials(rt.db, str(target["connection_id"]), False, loaded.connection)
    video, cover = rt.media(target, loaded.video, loaded.renditions, lambda message: _say(rt, target, message))
    hashtags = tuple(target["hashtags"] if target["hashtags"] is not None else target["post_hashtags"] or ())
    caption = target["caption"] if target["caption"] is not None else target["post_caption"] or ""
    return PublishJob(
        target_id=str(target["id"]),
        credentials=credentials,
        video=video,
        caption=caption,
        title=target["title"],
        hashtags=hashtags,
        options=dict(target["options"] or {}),
        cover=cover,
        slot=staging.slot_for_job(target, rt.clock()) if rt.adapter(target["platform"]).slot_step else None,
        now=rt.clock(),
        call_sent_at=call_sent_at,
    )


def _say(rt: Runtime, target: dict[str, Any], message: str) -> None:
    with rt.db.service() as conn:
        targets.say(conn, str(target["id"]), message)


def _lease_lost() -> Result:
    log.warning("lease lost before the outcome was recorded; the next owner will reconcile")
    return Result(Outcome.LEASE_LOST)


def _record_success(rt: Runtime, claim: Claimed, data: dict[str, Any], outcome: StepOutcome) -> Result:
    now = rt.clock()
    target, step = claim.target, claim.step
    adapter = rt.adapter(target["platform"])
    if claim.state == State.CANCELED:
        return _record_unstaged(rt, claim, data, outcome)
    if data.get("restage") and step == adapter.unstage_step:
        return _record_removed_for_restage(rt, claim)
    new_data = {k: v for k, v in data.items() if k not in ("pending_call", "watch_since")} | outcome.data
    if outcome.next_step is not None and outcome.next_step not in adapter.steps:
        raise RuntimeError(f"{adapter.key}: step {step} returned unknown next step {outcome.next_step!r}")
    if outcome.published is None and outcome.next_step is None:
        raise RuntimeError(f"{adapter.key}: step {step} returned no next step and no result")
    following_link = claim.state == State.PUBLISHED
    live = following_link or outcome.published is not None
    # A step that went through also ends any earlier failure: the status must not keep
    # showing "we'll retry" (or an error code) while the publish is moving on.
    fields: dict[str, Any] = {"attempts": 0, "lease_owner": None, "lease_expires_at": None,
                              "error_code": None, "error_class": None, "user_message": None}
    wait = outcome.wait_seconds
    # Staged ahead of its slot: scheduled again, the going-live step due at the slot.
    staged = not live and staging.waits_for_slot(adapter, outcome.next_step, target["scheduled_at"], now)
    if staged:
        wait = max(wait, (target["scheduled_at"] - now).total_seconds())
        new_data["staged"] = True
    if outcome.next_step is None:
        new_data.pop("link_pending", None)
        new_data["step"] = "done"
        fields["next_attempt_at"] = None
    else:
        new_data["step"] = outcome.next_step
        if live:
            new_data["link_pending"] = True  # live: the next step only reads the id or link
        fields["next_attempt_at"] = now + timedelta(seconds=wait)
    fields["state"] = State.PUBLISHED if live else State.SCHEDULED if staged else \
        State(adapter.steps[str(outcome.next_step)].phase)
    fields["step_data"] = new_data
    published = outcome.published
    if published is not None:
        if published.platform_post_id is not None or not following_link:
            fields["platform_post_id"] = published.platform_post_id
        if published.url is not None or not following_link:
            fields["platform_url"] = published.url
        if not following_link:
            fields["published_at"] = now
    bump = outcome.next_step is not None
    with rt.db.service() as conn:
        row = targets.record(conn, "record_success", target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, bump=bump)
        if row is None:
            return _lease_lost()
        if published is not None and not following_link:
            rt.notify_outcome(conn, {**target, "state": State.PUBLISHED, "platform_url": published.url})
            log.info("published", url=published.url, link_pending=bump)
        elif published is not None:
            log.info("link filled in", url=published.url)
    if bump:
        rt.enqueue(target["id"], target["platform"], row["task_seq"], wait)
    if staged:
        log.info("staged", slot=target["scheduled_at"].isoformat())
        return Result(Outcome.STAGED, State.SCHEDULED, outcome.next_step)
    if published is not None and not following_link:
        return Result(Outcome.PUBLISHED, State.PUBLISHED, outcome.next_step)
    return Result(Outcome.NEXT_STEP, fields["state"], outcome.next_step) if bump else \
        Result(Outcome.LINK, State.PUBLISHED)


def _since(data: dict[str, Any], key: str, now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(data[key]))
    except (KeyError, ValueError):
        return now


def _pending_since(data: dict[str, Any], now: datetime) -> datetime:
    pending = data.get("pending_call")
    try:
        return datetime.fromisoformat(str(pending["at"])) if isinstance(pending, dict) else now
    except (KeyError, ValueError):
        return now


def _record_failure(rt: Runtime, claim: Claimed, data: dict[str, Any], err: PlatformError, *,
                    unknown: bool = False) -> Result:
    now = rt.clock()
    target, step = claim.target, claim.step
    adapter = rt.adapter(target["platform"])
    platform_name = type(adapter).display_name
    log.warning("step failed", step=step, reconciling=unknown, **err.log_fields())
    if claim.state == State.PUBLISHED:
        return _record_link_failure(rt, claim, data, now)
    if claim.state == State.CANCELED:
        return _record_unstage_failure(rt, claim, data, err, now)
    # The irreversible call's outcome is unknown after a transient failure of the call
    # itself (timeout, 5xx, crash) and after any failure while asking about an earlier
    # one. An auth, quota or validation refusal of the call itself means it did not act.
    unknown = unknown or (err.error_class is ErrorClass.TRANSIENT and adapter.steps[step].irreversible)
    new_data = {k: v for k, v in data.items() if k != "pending_call"}
    if unknown:
        # Keep the mark, with what went wrong last (for the message if it turns out not live).
        pending = data.get("pending_call") or {"step": step, "at": now.isoformat()}
        new_data["pending_call"] = {**pending, "error": err.user_message}
    enqueue_delay: float | None = None
    with rt.db.service() as conn:
        row = targets.lock_if_ours(conn, target["id"], claim.lease)
        if row is None:
            return _lease_lost()
        seq_next = row["task_seq"] + 1
        fields: dict[str, Any] = {
            "step_data": new_data,
            "lease_owner": None,
            "lease_expires_at": None,
            "error_code": err.code or None,
            "error_class": str(err.error_class),
            "task_seq": seq_next,
        }
        watching = err.error_class is ErrorClass.TRANSIENT and adapter.steps[step].may_be_live and not unknown
        if watching and "watch_since" not in new_data:
            new_data["watch_since"] = now.isoformat()
            fields["step_data"] = new_data
        if (unknown and err.error_class in (ErrorClass.TRANSIENT, ErrorClass.PERMANENT)) or watching:
            # Maybe live: never `failed` early, never resent blindly. Ask again, quickly at
            # first, then every PUBLISH_RECONCILE_POLL_SECONDS, for PUBLISH_RECONCILE_HOURS.
            attempts = target["attempts"] + 1
            delay = states.retry_delay(attempts)
            window = timedelta(hours=rt.publishing.reconcile_hours)
            since = _since(new_data, "watch_since", now) if watching else _pending_since(data, now)
            fields["attempts"] = attempts
            if delay is None and now - since >= window:
                fields |= {"state": State.FAILED, "next_attempt_at": None, "error_code": "outcome_unknown",
                           "user_message": states.unconfirmed_message(platform_name)}
            else:
                wait = delay if delay is not None else rt.publishing.reconcile_poll_seconds
                state = State(adapter.steps[step].phase) if watching else State.RECONCILING
                fields |= {"state": state, "next_attempt_at": now + timedelta(seconds=wait),
                           "user_message": err.user_message if delay is not None
                           else states.checking_message(platform_name)}
                enqueue_delay = wait
        elif err.error_class is ErrorClass.TRANSIENT:
            attempts = target["attempts"] + 1
            delay = states.retry_delay(attempts)
            fields["attempts"] = attempts
            if delay is None:
                fields |= {"state": State.FAILED, "next_attempt_at": None,
                           "user_message": f"{err.user_message} We tried {states.MAX_RETRIES} more times; "
                                           "you can retry now from your posts."}
            else:
                fields |= {"state": State(adapter.steps[step].phase),
                           "next_attempt_at": now + timedelta(seconds=delay), "user_message": err.user_message}
                enqueue_delay = delay
        elif err.error_class is ErrorClass.AUTH:
            # With an unknown outcome the mark stays: after the reconnect the question comes first.
            rt.connection_expired(conn, str(target["connection_id"]), err.code or "auth")
            slot = target["scheduled_at"]
            # Found while staging: the user can still make the slot by reconnecting before it.
            message = staging.reconnect_message(platform_name, slot, target["timezone"], now) \
                if adapter.slot_step and slot is not None and slot > now else _reconnect_message(type(adapter))
            fields |= {"state": State.NEEDS_RECONNECT, "next_attempt_at": None, "user_message": message}
        elif err.error_class is ErrorClass.QUOTA:
            retry_at = err.retry_at or now + timedelta(minutes=15)
            # Users need to know when: the platform's message says why, we add the time.
            fields |= {"state": State.DEFERRED, "next_attempt_at": retry_at,
                       "user_message": f"{err.user_message} It will publish on {quota.describe(retry_at)}."}
            enqueue_delay = (retry_at - now).total_seconds()
        elif getattr(err, "fixable_by_conversion", False) and not data.get("converted") and rt.convert_for(target):
            fields |= {"state": State.QUEUED, "next_attempt_at": now, "attempts": 0,
                       "step_data": {"converted": True},
                       "user_message": f"Converting video for {adapter.display_name}... this may take 30 seconds.",
                       "error_class": None}
            enqueue_delay = 0.0
        else:
            fields |= {"state": State.FAILED, "next_attempt_at": None, "user_message": err.user_message}
        # The row lock taken above keeps the lease ours until this commits.
        targets.record(conn, "record_failure", target["id"], source=claim.state, lease=None, fields=fields)
        if fields["state"] == State.FAILED:
            rt.notify_outcome(conn, {**target, "state": State.FAILED, "user_message": fields["user_message"]})
    if enqueue_delay is not None:
        rt.enqueue(target["id"], target["platform"], seq_next, enqueue_delay)
    state = State(fields["state"])
    return Result(_failure_outcome(state), state, step)


def _fail_after_retries(rt: Runtime, claim: Claimed) -> Result:
    """The platform confirmed an unknown call did not act, and every quick retry is used up."""
    target, data = claim.target, claim.data
    pending = data.get("pending_call") or {}
    reason = pending.get("error") or f"{rt.adapter(target['platform']).display_name} did not accept the video."
    message = f"{reason} We tried {states.MAX_RETRIES} more times; you can retry now from your posts."
    new_data = {k: v for k, v in data.items() if k != "pending_call"}
    fields = {"state": State.FAILED, "step_data": new_data, "next_attempt_at": None, "lease_owner": None,
              "lease_expires_at": None, "error_class": "transient", "user_message": message}
    with rt.db.service() as conn:
        row = targets.record(conn, "record_failure", target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, bump=True, returning="id")
        if row is None:
            return _lease_lost()
        rt.notify_outcome(conn, {**target, "state": State.FAILED, "user_message": message})
    return Result(Outcome.FAILED, State.FAILED, claim.step)


def _record_link_failure(rt: Runtime, claim: Claimed, data: dict[str, Any], now: datetime) -> Result:
    """The video is live; only its link is missing. Ask again later, for a bounded time."""
    target = claim.target
    attempts = target["attempts"] + 1
    delay = states.retry_delay(attempts) or rt.publishing.reconcile_poll_seconds
    published_at = target.get("published_at") or now
    give_up = now - published_at >= timedelta(hours=rt.publishing.reconcile_hours)
    new_data = dict(data)
    if give_up:
        new_data.pop("link_pending", None)
        new_data["step"] = "done"
        log.warning("gave up looking up the link of a live post")
    fields = {"step_data": new_data, "attempts": attempts,
              "next_attempt_at": None if give_up else now + timedelta(seconds=delay),
              "lease_owner": None, "lease_expires_at": None}
    with rt.db.service() as conn:
        row = targets.record(conn, "record_follow_up", target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, bump=True)
    if row is None:
        return _lease_lost()
    if not give_up:
        rt.enqueue(target["id"], target["platform"], row["task_seq"], delay)
    return Result(Outcome.LINK_RETRY, State.PUBLISHED, claim.step)


def _record_unstaged(rt: Runtime, claim: Claimed, data: dict[str, Any], outcome: StepOutcome) -> Result:
    """A canceled target's staged object is gone from the platform: nothing more to run."""
    new_data = {k: v for k, v in data.items() if k != "unstage"} | outcome.data
    fields = {"step_data": new_data, "next_attempt_at": None, "attempts": 0, "lease_owner": None,
              "lease_expires_at": None, "error_code": None, "error_class": None, "user_message": None}
    with rt.db.service() as conn:
        row = targets.record(conn, "record_follow_up", claim.target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, returning="id")
    if row is None:
        return _lease_lost()
    log.info("unstaged")
    return Result(Outcome.UNSTAGED, State.CANCELED)


def _record_removed_for_restage(rt: Runtime, claim: Claimed) -> Result:
    """An edited staged target's object is gone from the platform: it stages again from the first
    step, at its lead time before the new slot (at once for "publish now")."""
    now = rt.clock()
    target = claim.target
    adapter = rt.adapter(target["platform"])
    slot = target["scheduled_at"]
    state = State.SCHEDULED if slot is not None else State(adapter.steps[adapter.first_step].phase)
    due = staging.due_at(adapter, slot, now) if slot is not None else now
    fields = {"attempts": 0, "lease_owner": None, "lease_expires_at": None, "error_code": None,
              "error_class": None, "user_message": None, "state": state, "next_attempt_at": due,
              "step_data": {"step": adapter.first_step}}
    with rt.db.service() as conn:
        row = targets.record(conn, "record_success", target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, bump=True)
        if row is None:
            return _lease_lost()
    wait = max(0.0, (due - now).total_seconds())
    rt.enqueue(target["id"], target["platform"], row["task_seq"], wait)
    log.info("unstaged to stage again after an edit")
    return Result(Outcome.NEXT_STEP, state, adapter.first_step)


def _record_unstage_failure(rt: Runtime, claim: Claimed, data: dict[str, Any], err: PlatformError,
                            now: datetime) -> Result:
    """Removing a canceled target's staged object failed: retry a transient failure; otherwise the
    user is told to delete it on the platform, since the platform would still publish it."""
    target = claim.target
    adapter = rt.adapter(target["platform"])
    attempts = target["attempts"] + 1
    delay = states.retry_delay(attempts) if err.error_class is ErrorClass.TRANSIENT else None
    new_data = dict(data)
    message = None
    if delay is None:
        new_data.pop("unstage", None)
        message = staging.unstage_failed_message(type(adapter).display_name, target["scheduled_at"],
                                                 target["timezone"], now)
    fields = {"step_data": new_data, "attempts": attempts,
              "next_attempt_at": None if delay is None else now + timedelta(seconds=delay),
              "lease_owner": None, "lease_expires_at": None, "error_code": err.code or None,
              "error_class": str(err.error_class), "user_message": message}
    with rt.db.service() as conn:
        row = targets.record(conn, "record_follow_up", target["id"], source=claim.state, lease=claim.lease,
                             fields=fields, bump=True)
        if row is not None and err.error_class is ErrorClass.AUTH:
            rt.connection_expired(conn, str(target["connection_id"]), err.code or "auth")
    if row is None:
        return _lease_lost()
    if delay is not None:
        rt.enqueue(target["id"], target["platform"], row["task_seq"], delay)
    return Result(Outcome.UNSTAGE_FAILED if delay is None else Outcome.UNSTAGE_RETRY, State.CANCELED)
