"""Publishing use cases: create a post with its targets, read status, edit, cancel, retry.

User-facing reads run in the user's transaction, so RLS decides what exists for
them. Users hold no write privilege on posts, targets or idempotency keys
(docs/security.md): once a request is checked here, its writes run as the service
in the same transaction (`server_writes`). Budget counts (which span all users)
run as the service too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db.database import Conn, server_writes
from shared.errors import Conflict, InvalidInput, NotEditable, NotFound, QuotaExceeded
from shared.platforms import adapters
from shared.platforms.base import PlatformAdapter
from shared.platforms.options import PlatformOptions
from shared.platforms.options import stored as options_as_stored
from shared.platforms.registry import registry
from shared.publishing import quota, slots, staging, states, targets
from shared.publishing.requests import (
    AddTargets,
    PublishRequest,
    TargetEdit,
    TargetRequest,
    resolve_time,
)
from shared.publishing.runtime import Runtime
from shared.publishing.states import State
from shared.publishing.target_checks import check_target, default_title, problem_of
from shared.publishing.waiting import wait_until_done
from shared.responses import PostView, PublishAccepted, TargetCreated, TargetView
from shared.users import User

TARGET_FIELDS = (
    "id", "post_id", "platform", "connection_id", "state", "scheduled_at", "timezone", "attempts",
    "next_attempt_at", "platform_post_id", "platform_url", "error_code", "error_class", "user_message",
    "published_at", "caption", "title", "hashtags", "options", "created_at", "updated_at",
)
_COLUMNS = sql.SQL(", ").join(sql.Identifier(name) for name in TARGET_FIELDS)
# What `states.cancelable` needs besides the state (read with the view, never shown).
_CANCEL_COLUMNS = ("step_data", "lease_owner")


@dataclass
class PlannedTarget:
    adapter: type[PlatformAdapter]
    connection: dict[str, Any]
    request: TargetRequest
    scheduled_at: datetime | None
    timezone: str
    caption: str | None
    title: str | None
    options: PlatformOptions | None = None
    index: int = 0
    # What the checks found ({"field", "code", "message"}, fields from the request's root).
    problems: list[dict[str, str]] = field(default_factory=list)
    budget_problem: dict[str, str] | None = None
    live: dict[str, Any] = field(default_factory=dict)   # the account's live settings (TikTok creator_info)
    # When a scheduled target starts: its slot, or its staging lead time before it (shared/publishing/staging.py).
    due_at: datetime | None = None


@dataclass
class PostPlan:
    """A publish request checked as publishing checks it, before anything is stored."""

    video: dict[str, Any]
    targets: list[PlannedTarget]


def _find_adapter(name: str) -> list[type[PlatformAdapter]]:
    """A network name matches every integration that publishes there ("tiktok": direct and Blotato)."""
    return [cls for cls in adapters().values() if name in (cls.key, cls.network)]


def _connection_for(conn: Conn, user: User, target: TargetRequest) -> tuple[type[PlatformAdapter], dict[str, Any]]:
    candidates = _find_adapter(target.platform)
    if not candidates:
        raise InvalidInput(f"We can't publish to '{target.platform}' yet.", code="unknown_platform")
    keys = [cls.key for cls in candidates]
    rows = conn.execute(
        "select id, user_id, platform, platform_account_id, username, status, account_info, updated_at "
        "from social_connections where platform = any(%s) and (%s::uuid is null or id = %s::uuid) "
        "and status <> 'disconnected' order by created_at",
        (keys, target.connection_id, target.connection_id),
    ).fetchall()
    # Name the network the way users know it ("TikTok"), not the integration ("TikTok via Blotato").
    network = next((c for c in candidates if c.key == c.network), candidates[0]).display_name
    if not rows:
        raise InvalidInput(f"Connect your {network} account first, then publish again.", code="not_connected")
    live = [row for row in rows if row["status"] == "connected"]
    if not live:
        raise Conflict(
            f"Your {network} connection expired. Please reconnect it, then publish again.",
            code="connection_expired",
            detail={"connection_id": str(rows[0]["id"])},
        )
    if len(live) > 1 and target.connection_id is None:
        raise InvalidInput(
            f"You have {len(live)} {network} accounts connected. Please choose which one to publish to.",
            code="choose_account",
            detail=[{"connection_id": str(r["id"]), "username": r["username"]} for r in live],
        )
    connection = dict(live[0])
    return adapters()[connection["platform"]], connection


def _refuse(problems: list[tuple[str, list[dict[str, str]]]]) -> None:
    """422 with every problem as {"field", "code", "message"} (the objects a preview shows)."""
    summary = " ".join(f"{network}: {' '.join(p['message'] for p in found)}" for network, found in problems)
    raise InvalidInput(summary, code="not_publishable", detail=[p for _, found in problems for p in found])


def refuse_unless_publishable(plans: list[PlannedTarget]) -> None:
    """Refuse a planned post the way publishing does: checks first (422), then budgets (409)."""
    found = [(plan.adapter.network, plan.problems) for plan in plans if plan.problems]
    if found:
        _refuse(found)
    for plan in plans:
        if plan.budget_problem:
            raise QuotaExceeded(plan.budget_problem["message"],
                                detail={"platform": plan.adapter.key, "problems": [plan.budget_problem]})


def live_settings(rt: Runtime, adapter: type[PlatformAdapter], connection: dict[str, Any]) -> dict[str, Any]:
    """The account's current settings that options are checked against (the descriptor's `live_settings`)."""
    platform = registry().get(adapter.key)
    if platform is None or platform.live_settings is None:
        return {}
    connection_id = str(connection["id"])
    return platform.live_settings(connection, lambda: rt.credentials(rt.db, connection_id, False).access_token)


def stored_options(options: PlatformOptions | None) -> dict[str, Any]:
    return options_as_stored(options) if options is not None else {}


def _consent(options: PlatformOptions | None, now: datetime) -> Jsonb | None:
    """TikTok: the declaration the user agreed to, and when (stored with the target)."""
    record = getattr(options, "consent_record", lambda: None)()
    return Jsonb({**record, "agreed_at": now.isoformat()}) if record else None


def _request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def create_post(
    rt: Runtime,
    user: User,
    request: PublishRequest,
    *,
    idempotency_key: str | None = None,
    raw_body: bytes = b"",
    batch_id: str | None = None,
) -> tuple[PublishAccepted | PostView, int]:
    """Validate and store a post with one target per platform; enqueue what is due now."""
    now = rt.clock()
    request = rt.best_times(rt, user, request, now)
    with rt.db.user(user.claims) as conn:
        if idempotency_key:
            previous = _claim_idempotency_key(conn, user.id, idempotency_key, _request_hash(raw_body))
            if previous is not None:
                return PublishAccepted.model_validate(previous), 200
        plans = plan_post(rt, conn, user, request, now).targets
        refuse_unless_publishable(plans)
        # Every row written below was checked above: the video and connections are the
        # user's own (read under RLS); text, media and schedule are valid; budgets allow it.
        post_id, created = _insert_post(conn, user, request, plans, batch_id, now)
        response = _accepted(post_id, created)
        if idempotency_key:
            with server_writes(conn):
                conn.execute(
                    "update idempotency_keys set response = %s where user_id = %s and key = %s",
                    (Jsonb(response.model_dump(mode="json")), user.id, idempotency_key),
                )
    for target in created:
        if target["state"] == State.QUEUED:
            rt.enqueue(str(target["id"]), target["platform"], target["task_seq"])
    slots.hand_to_queue(rt, created)
    if request.wait:
        final = wait_for_post(rt, user, post_id, request.wait)
        if final is not None:
            return final, 200
    return response, 202


def _accepted(post_id: str, created: list[dict[str, Any]]) -> PublishAccepted:
    return PublishAccepted(post_id=post_id, targets=[
        TargetCreated(target_id=str(t["id"]), platform=t["platform"], state=t["state"]) for t in created])


def plan_post(rt: Runtime, conn: Conn, user: User, request: PublishRequest, now: datetime) -> PostPlan:
    """Every check publishing runs, for publish and preview alike; stores nothing.

    Request-level mistakes (unknown video, account not connected) raise; what is wrong with a
    platform post (options, text, media, cover, time, budget) is collected per target.
    """
    video = conn.execute(
        "select id, storage_path, original_filename, content_type, size_bytes, probe, deleted_at "
        "from videos where id = %s", (request.video_id,)
    ).fetchone()
    if video is None or video["deleted_at"] is not None:
        raise NotFound("We couldn't find that video. Please upload it again.", code="video_not_found")
    plans = _plan_targets(conn, user, request, now)
    for plan in plans:
        plan.live = live_settings(rt, plan.adapter, plan.connection)
        checked = check_target(
            plan.adapter, video=video,
            caption=plan.caption if plan.caption is not None else request.caption,
            title=plan.title,
            hashtags=plan.request.hashtags if plan.request.hashtags is not None else request.hashtags,
            options=plan.request.options, scheduled_at=plan.scheduled_at, now=now, live=plan.live,
        )
        plan.options = checked.options
        plan.problems = [{**p, "field": f"targets.{plan.index}.{p['field']}"} for p in checked.found]
        if plan.scheduled_at is not None:
            plan.due_at = staging.due_at(rt.adapter(plan.adapter.key), plan.scheduled_at, now)
    with rt.db.service() as budgets:
        for plan in plans:
            message = quota.budget_problem(
                # A staged target spends its budget on the day it stages (YouTube counts the upload day).
                budgets, plan.adapter, account_id=plan.connection["platform_account_id"],
                at=plan.due_at or plan.scheduled_at or now, user_id=str(plan.connection["user_id"]),
            )
            if message:
                plan.budget_problem = problem_of(f"targets.{plan.index}.publish_at", "over_platform_limit", message)
    return PostPlan(dict(video), plans)


def _insert_post(conn: Conn, user: User, request: PublishRequest, plans: list[PlannedTarget],
                 batch_id: str | None, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    with server_writes(conn):
        post = conn.execute(
            "insert into posts (user_id, video_id, batch_id, caption, hashtags, campaign) "
            "values (%s, %s, %s, %s, %s, %s) returning id, created_at",
            (user.id, request.video_id, batch_id, request.caption, request.hashtags, request.campaign),
        ).fetchone()
        assert post is not None
    return str(post["id"]), _insert_targets(conn, user, str(post["id"]), plans, now)


def _insert_targets(conn: Conn, user: User, post_id: str, plans: list[PlannedTarget],
                    now: datetime) -> list[dict[str, Any]]:
    return [targets.create(conn, {
        "user_id": user.id, "post_id": post_id, "connection_id": plan.connection["id"],
        "platform": plan.adapter.key, "caption": plan.caption, "title": plan.title,
        "hashtags": plan.request.hashtags, "options": stored_options(plan.options),
        "scheduled_at": plan.scheduled_at, "timezone": plan.timezone,
        "consent": _consent(plan.options, now), "next_attempt_at": plan.due_at,
    }) for plan in plans]


def _plan_targets(conn: Conn, user: User, request: PublishRequest, now: datetime) -> list[PlannedTarget]:
    plans = []
    for index, target in enumerate(request.targets):
        adapter, connection = _connection_for(conn, user, target)
        zone = target.timezone or request.timezone
        chosen = target.publish_at
        assert not isinstance(chosen, str), "publish_at 'best' is resolved before planning"
        when = resolve_time(chosen or request.publish_at, zone)
        title = target.title
        if adapter.limits.title is not None and adapter.limits.title.required and not title:
            caption = target.caption if target.caption is not None else request.caption
            title = default_title(caption, adapter.limits.title.max_length) or None
        plans.append(PlannedTarget(adapter, connection, target, when, zone, target.caption, title, index=index))
    return plans


def _claim_idempotency_key(conn: Conn, user_id: str, key: str, request_hash: str) -> dict[str, Any] | None:
    if len(key) > 200:
        raise InvalidInput("The Idempotency-Key header is too long (200 characters max).",
                           code="invalid_idempotency_key")
    with server_writes(conn):
        inserted = conn.execute(
            "insert into idempotency_keys (user_id, key, request_hash) values (%s, %s, %s) "
            "on conflict do nothing returning key",
            (user_id, key, request_hash),
        ).fetchone()
        existing = None if inserted else conn.execute(
            "select request_hash, response from idempotency_keys where user_id = %s and key = %s", (user_id, key)
        ).fetchone()
    if inserted:
        return None
    assert existing is not None
    if existing["request_hash"] != request_hash:
        raise InvalidInput("This Idempotency-Key was already used for a different publish request.",
                           code="idempotency_key_reused")
    if existing["response"] is None:
        raise Conflict("This publish request is still being processed. Please wait a moment.", code="in_progress")
    return dict(existing["response"])


# ------------------------------------------------------------------------------ status


def summarize(targets: list[TargetView] | list[dict[str, Any]]) -> str:
    total = len(targets)
    published = sum(1 for t in targets if t["state"] == State.PUBLISHED)
    failed = sum(1 for t in targets if t["state"] == State.FAILED)
    waiting = sum(1 for t in targets if t["state"] == State.NEEDS_RECONNECT)
    parts = [f"Published to {published} of {total} platform{'s' if total != 1 else ''}"]
    if failed:
        parts.append(f"{failed} failed")
    if waiting:
        parts.append(f"{waiting} waiting for you to reconnect")
    pending = total - published - failed - waiting - sum(1 for t in targets if t["state"] == State.CANCELED)
    if pending:
        parts.append(f"{pending} in progress or scheduled")
    return ", ".join(parts) + "."


def _target_view(row: dict[str, Any]) -> TargetView:
    # step_data and lease_owner only decide `can_cancel`; they are not part of the view.
    view = {k: v for k, v in row.items() if k not in _CANCEL_COLUMNS}
    for key in ("id", "post_id", "connection_id"):
        if view.get(key) is not None:
            view[key] = str(view[key])
    return TargetView(
        **view,
        can_edit=row["state"] in states.NOT_STARTED,
        can_cancel=states.cancelable(row["state"], row.get("step_data"), row.get("lease_owner")),
        can_retry=row["state"] in states.RETRYABLE,
    )


def get_post(rt: Runtime, user: User, post_id: str) -> PostView:
    with rt.db.user(user.claims) as conn:
        post = conn.execute(
            "select id, video_id, caption, hashtags, campaign, batch_id, created_at from posts where id = %s",
            (post_id,),
        ).fetchone()
        if post is None:
            raise NotFound("We couldn't find that post.", code="post_not_found")
        rows = conn.execute(
            sql.SQL("select {}, {} from publish_targets where post_id = %s order by platform").format(
                _COLUMNS, sql.SQL(", ").join(map(sql.Identifier, _CANCEL_COLUMNS))),
            (post_id,),
        ).fetchall()
    views = [_target_view(dict(t)) for t in rows]
    return PostView(
        post_id=str(post["id"]),
        video_id=str(post["video_id"]),
        caption=post["caption"],
        hashtags=post["hashtags"],
        campaign=post["campaign"],
        created_at=post["created_at"].isoformat(),
        summary=summarize(views),
        done=all(t.state in states.TERMINAL or t.state == State.NEEDS_RECONNECT for t in views),
        targets=views,
    )


def wait_for_post(rt: Runtime, user: User, post_id: str, seconds: float) -> PostView | None:
    """The post once every platform is done, or None after `seconds` (woken by its state changes)."""
    return wait_until_done(rt, post_id, seconds, lambda: get_post(rt, user, post_id))


# ------------------------------------------------------------------------ edit / cancel


def edit_target(rt: Runtime, user: User, target_id: str, edit: TargetEdit) -> TargetView:
    """Change a scheduled platform post; it is checked exactly like a new one (check_target)."""
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        current = conn.execute(
            sql.SQL("select {} from publish_targets where id = %s").format(_COLUMNS),
            (target_id,),
        ).fetchone()
        if current is None:
            raise NotFound("We couldn't find that scheduled post.", code="target_not_found")
        if current["state"] not in states.NOT_STARTED:
            raise NotEditable("This post is already publishing or done, so it can't be edited.")
        staged = _staged_data(conn, target_id)
        if staged is not None:
            _refuse_staged_edit(current, edit, now)
        post = conn.execute(
            "select p.caption, p.hashtags, v.probe from posts p join videos v on v.id = p.video_id where p.id = %s",
            (current["post_id"],),
        ).fetchone()
        connection = conn.execute(
            "select id, platform, platform_account_id, username, status, account_info, updated_at "
            "from social_connections where id = %s", (current["connection_id"],),
        ).fetchone()
        adapter = adapters()[current["platform"]]
        zone = edit.timezone or current["timezone"]
        when = None if edit.publish_now else (
            resolve_time(edit.publish_at, zone) if edit.publish_at else current["scheduled_at"])
        caption = edit.caption if edit.caption is not None else current["caption"]
        title = edit.title if edit.title is not None else current["title"]
        hashtags = edit.hashtags if edit.hashtags is not None else current["hashtags"]
        options = edit.options if edit.options is not None else (current["options"] or {})
        checked = check_target(
            adapter, video=dict(post or {}),
            caption=caption if caption is not None else (post["caption"] if post else "") or "",
            title=title, hashtags=list(hashtags if hashtags is not None else (post["hashtags"] if post else []) or []),
            options=options, scheduled_at=when, now=now,
            live=live_settings(rt, adapter, dict(connection)) if connection else None,
        )
        if checked.found:
            _refuse([(adapter.network, checked.found)])
        values = {
            "caption": caption, "title": title, "hashtags": hashtags,
            "options": Jsonb(stored_options(checked.options)), "scheduled_at": when, "timezone": zone,
            "consent": _consent(checked.options, now) if edit.options is not None else None,
        }
        platform = rt.adapter(current["platform"])
        # Still scheduled (and staged or not, as read) at the moment of writing: the worker may have
        # started it meanwhile.
        if staged is None:
            updated = targets.edit(conn, target_id, user.id, values, _COLUMNS)
            due = staging.due_at(platform, when, now) if when is not None else None
        else:
            restage = staging.restage_data(platform, staged)
            updated = targets.edit_staged(conn, target_id, user.id, values, restage, _COLUMNS)
            due = staging.restage_due(platform, restage, when, now)
        if updated is not None and due is not None:
            # The schedule trigger moved it to the slot; a staged platform starts its lead time before,
            # and a staged object is updated (or removed) at once.
            updated = targets.set_due(conn, target_id, due, _COLUMNS)
        if updated is not None and edit.publish_now:
            updated = targets.start_now(conn, target_id, now, _COLUMNS)
    if updated is None:
        raise NotEditable("This post started publishing just now, so it can't be edited.")
    if edit.publish_now:
        rt.enqueue(str(updated["id"]), updated["platform"], updated["task_seq"])
    else:
        slots.reschedule(rt, target_id)
    return _target_view({k: updated[k] for k in TARGET_FIELDS})


def cancel_post(rt: Runtime, user: User, post_id: str) -> PostView:
    """Cancel every platform post of a post that has not started; the others are left as they are."""
    with rt.db.user(user.claims) as conn:
        rows = conn.execute("select id, state from publish_targets where post_id = %s", (post_id,)).fetchall()
        if not rows and conn.execute("select 1 from posts where id = %s", (post_id,)).fetchone() is None:
            raise NotFound("We couldn't find that post.", code="post_not_found")
        canceled = 0
        unstaging: list[dict[str, Any]] = []
        for row in rows:
            if row["state"] in states.TERMINAL:
                continue
            found = targets.cancel(conn, row["id"])
            if found is not None:
                unstaging.append(_unstage_if_staged(rt, conn, found))
                canceled += 1
    if not canceled:
        raise NotEditable("Every platform of this post has already started or finished, so there is nothing left "
                          "to cancel.", code="cannot_cancel")
    _enqueue_unstaging(rt, unstaging)
    return get_post(rt, user, post_id)


def add_targets(rt: Runtime, user: User, post_id: str, body: AddTargets) -> tuple[PublishAccepted, int]:
    """New platforms for an existing post, with its video and text, checked exactly as creating a post."""
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        post = conn.execute("select id, video_id, caption, hashtags, campaign from posts where id = %s",
                            (post_id,)).fetchone()
        if post is None:
            raise NotFound("We couldn't find that post.", code="post_not_found")
        request = PublishRequest(video_id=post["video_id"], caption=post["caption"] or "",
                                 hashtags=list(post["hashtags"] or []), campaign=post["campaign"],
                                 timezone=body.timezone, publish_at=body.publish_at, targets=body.targets)
        request = rt.best_times(rt, user, request, now)
        plans = plan_post(rt, conn, user, request, now).targets
        existing = {str(r["connection_id"]) for r in conn.execute(
            "select connection_id from publish_targets where post_id = %s and state <> %s", (post_id, State.CANCELED))}
        for plan in plans:
            if str(plan.connection["id"]) in existing:
                raise Conflict(f"This post already goes to that {plan.adapter.display_name} account.",
                               code="already_in_post",
                               detail={"field": f"targets.{plan.index}", "connection_id": str(plan.connection["id"])})
        refuse_unless_publishable(plans)
        created = _insert_targets(conn, user, post_id, plans, now)
    for target in created:
        if target["state"] == State.QUEUED:
            rt.enqueue(str(target["id"]), target["platform"], target["task_seq"])
    slots.hand_to_queue(rt, created)
    return _accepted(post_id, created), 201


def _staged_data(conn: Conn, target_id: str) -> dict[str, Any] | None:
    """The step data of a target staged on its platform, None when it is not staged."""
    row = conn.execute("select step_data from publish_targets where id = %s and step_data ? 'staged'",
                       (target_id,)).fetchone()
    return None if row is None else dict(row["step_data"])


def _refuse_staged_edit(current: dict[str, Any], edit: TargetEdit, now: datetime) -> None:
    """A staged post's time and text can change; its settings were sent with the video, and at its slot
    it is the platform's to publish."""
    if current["scheduled_at"] is not None and current["scheduled_at"] <= now:
        raise NotEditable("This post is going live right now, so it can't be edited.", code="already_started")
    if edit.options is not None:
        raise NotEditable("This post is already on the platform, waiting for its time: you can change its time "
                          "and text, but not its settings. Cancel it and schedule it again to change them.",
                          code="already_staged")


def cancel_target(rt: Runtime, user: User, target_id: str) -> TargetView:
    with rt.db.user(user.claims) as conn:
        row = targets.cancel(conn, target_id)
        if row is None:
            exists = conn.execute("select state, step_data ? 'pending_call' as maybe_live from publish_targets "
                                  "where id = %s", (target_id,)).fetchone()
            if exists is None:
                raise NotFound("We couldn't find that post.", code="target_not_found")
            if exists["maybe_live"]:
                raise NotEditable("This video may already be live, so it can't be canceled. We'll check with the "
                                  "platform (after you reconnect, if asked).", code="cannot_cancel")
            raise NotEditable(f"This post is already {exists['state'].replace('_', ' ')}; it can't be canceled.",
                              code="cannot_cancel")
        row = _unstage_if_staged(rt, conn, dict(row))
    _enqueue_unstaging(rt, [row])
    return _target_view({k: row[k] for k in TARGET_FIELDS})


def _unstage_if_staged(rt: Runtime, conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    """A canceled target whose staged object would still go out on the platform: the worker removes it."""
    adapter = rt.adapter(row["platform"])
    if adapter.unstage_step is None or not adapter.staged_object(row["step_data"] or {}):
        return row
    return targets.mark_unstage(conn, row["id"], rt.clock())


def _enqueue_unstaging(rt: Runtime, rows: list[dict[str, Any]]) -> None:
    """After the cancel committed: the worker's task that removes a staged object (the tick re-does a lost one)."""
    for row in rows:
        if (row.get("step_data") or {}).get("unstage"):
            rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])


def retry_target(rt: Runtime, user: User, target_id: str) -> TargetView:
    with rt.db.user(user.claims) as conn:
        row = targets.retry(conn, target_id)
        if row is None:
            exists = conn.execute("select state from publish_targets where id = %s", (target_id,)).fetchone()
            if exists is None:
                raise NotFound("We couldn't find that post.", code="target_not_found")
            raise Conflict("Only failed posts can be retried.", code="cannot_retry")
    rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])
    return _target_view({k: row[k] for k in TARGET_FIELDS})
