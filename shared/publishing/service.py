"""Publishing use cases: create a post with its targets, read status, edit, cancel, retry.

User-facing reads run in the user's transaction, so RLS decides what exists for
them. Users hold no write privilege on posts, targets or idempotency keys
(docs/security.md): once a request is checked here, its writes run as the service
in the same transaction (`server_writes`). Budget counts (which span all users)
run as the service too.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db.database import Conn, server_writes
from shared.http import ApiError, User
from shared.platforms import adapters
from shared.platforms.base import PlatformAdapter, caption_with_hashtags
from shared.publishing import quota, staging, states, text
from shared.publishing.requests import (
    PostQuery,
    PublishRequest,
    TargetEdit,
    TargetRequest,
    check_schedule,
    resolve_time,
)
from shared.publishing.runtime import Runtime

TARGET_FIELDS = (
    "id", "post_id", "platform", "connection_id", "state", "scheduled_at", "timezone", "attempts",
    "next_attempt_at", "platform_post_id", "platform_url", "error_code", "error_class", "user_message",
    "published_at", "caption", "title", "hashtags", "options", "created_at", "updated_at",
)
_COLUMNS = sql.SQL(", ").join(sql.Identifier(name) for name in TARGET_FIELDS)


@dataclass
class PlannedTarget:
    adapter: type[PlatformAdapter]
    connection: dict[str, Any]
    request: TargetRequest
    scheduled_at: datetime | None
    timezone: str
    caption: str | None
    title: str | None
    # When a scheduled target starts: its slot, or its staging lead time before it.
    due_at: datetime | None = None


def _find_adapter(name: str) -> list[type[PlatformAdapter]]:
    """A network name matches every integration that publishes there ("tiktok": direct and Blotato)."""
    return [cls for cls in adapters().values() if name in (cls.key, cls.network)]


def _connection_for(conn: Conn, user: User, target: TargetRequest) -> tuple[type[PlatformAdapter], dict[str, Any]]:
    candidates = _find_adapter(target.platform)
    if not candidates:
        raise ApiError(422, "unknown_platform", f"We can't publish to '{target.platform}' yet.")
    keys = [cls.key for cls in candidates]
    rows = conn.execute(
        "select id, user_id, platform, platform_account_id, username, status from social_connections "
        "where platform = any(%s) and (%s::uuid is null or id = %s::uuid) and status <> 'disconnected' "
        "order by created_at",
        (keys, target.connection_id, target.connection_id),
    ).fetchall()
    # Name the network the way users know it ("TikTok"), not the integration ("TikTok via Blotato").
    network = next((c for c in candidates if c.key == c.network), candidates[0]).display_name
    if not rows:
        raise ApiError(422, "not_connected", f"Connect your {network} account first, then publish again.")
    live = [row for row in rows if row["status"] == "connected"]
    if not live:
        raise ApiError(
            409,
            "connection_expired",
            f"Your {network} connection expired. Please reconnect it, then publish again.",
            {"connection_id": str(rows[0]["id"])},
        )
    if len(live) > 1 and target.connection_id is None:
        raise ApiError(
            422,
            "choose_account",
            f"You have {len(live)} {network} accounts connected. Please choose which one to publish to.",
            [{"connection_id": str(r["id"]), "username": r["username"]} for r in live],
        )
    connection = dict(live[0])
    return adapters()[connection["platform"]], connection


def _text_problems(plan: PlannedTarget, post: PublishRequest) -> list[str]:
    limits = plan.adapter.limits
    hashtags = plan.request.hashtags if plan.request.hashtags is not None else post.hashtags
    caption = caption_with_hashtags(plan.caption if plan.caption is not None else post.caption, hashtags)
    found = text.problems(caption, limits.caption, "caption", plan.adapter.display_name)
    if limits.title is not None:
        title = plan.title if plan.title is not None else default_title(caption, limits.title.max_length)
        found += text.problems(title, limits.title, "title", plan.adapter.display_name)
    if limits.tags_total_chars is not None:
        tags_length = len(",".join(f'"{t}"' if " " in t else t for t in hashtags))
        if tags_length > limits.tags_total_chars:
            found.append(
                f"{plan.adapter.display_name} allows {limits.tags_total_chars} characters of tags in all; "
                f"these have {tags_length}."
            )
    return found


def default_title(caption: str, max_length: int) -> str:
    """A title from the caption's first line, for platforms that need one."""
    first = (caption.strip().splitlines() or [""])[0]
    first = first.replace("<", "").replace(">", "")
    return first if len(first) <= max_length else first[: max_length - 1].rstrip() + "…"


def _media_problems(video: dict[str, Any], adapter: type[PlatformAdapter]) -> list[str]:
    from shared.media.validate import validate

    if not video.get("probe"):
        return []
    verdict = validate(video["probe"], adapter.limits, platform=adapter.display_name)
    # Fixable problems (codec, pixel format, moov position, bitrate) are converted at publish time (EC-2).
    return [problem.message for problem in verdict.problems if not problem.fixable]


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
) -> tuple[dict[str, Any], int]:
    """Validate and store a post with one target per platform; enqueue what is due now."""
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        if idempotency_key:
            previous = _claim_idempotency_key(conn, user.id, idempotency_key, _request_hash(raw_body))
            if previous is not None:
                return previous, 200
        video = conn.execute(
            "select id, probe, deleted_at from videos where id = %s", (request.video_id,)
        ).fetchone()
        if video is None or video["deleted_at"] is not None:
            raise ApiError(404, "video_not_found", "We couldn't find that video. Please upload it again.")
        plans = _plan_targets(conn, user, request, now)
        for plan in plans:
            if plan.scheduled_at is not None:
                plan.due_at = staging.due_at(rt.adapter(plan.adapter.key), plan.scheduled_at, now)
        problems: dict[str, list[str]] = {}
        for plan in plans:
            found = _text_problems(plan, request) + _media_problems(video, plan.adapter)
            schedule_problem = check_schedule(plan.scheduled_at, now)
            if schedule_problem:
                found.append(schedule_problem)
            if found:
                problems[plan.adapter.network] = found
        if problems:
            summary = " ".join(f"{platform}: {' '.join(msgs)}" for platform, msgs in problems.items())
            raise ApiError(422, "not_publishable", summary, problems)
        _check_budgets(rt, plans, now)
        # Every row written below was checked above: the video and connections are the
        # user's own (read under RLS); text, media and schedule are valid; budgets allow it.
        post_id, created = _insert_post(conn, user, request, plans, batch_id)
        response: dict[str, Any] = {
            "post_id": post_id,
            "targets": [
                {"target_id": str(t["id"]), "platform": t["platform"], "state": t["state"]} for t in created
            ],
        }
        if idempotency_key:
            with server_writes(conn):
                conn.execute(
                    "update idempotency_keys set response = %s where user_id = %s and key = %s",
                    (Jsonb(response), user.id, idempotency_key),
                )
    for target in created:
        if target["state"] == states.QUEUED:
            rt.enqueue(str(target["id"]), target["platform"], target["task_seq"])
    if request.wait:
        final = wait_for_post(rt, user, response["post_id"], request.wait)
        if final is not None:
            return final, 200
    return response, 202


def _insert_post(conn: Conn, user: User, request: PublishRequest, plans: list[PlannedTarget],
                 batch_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    with server_writes(conn):
        post = conn.execute(
            "insert into posts (user_id, video_id, batch_id, caption, hashtags, campaign) "
            "values (%s, %s, %s, %s, %s, %s) returning id, created_at",
            (user.id, request.video_id, batch_id, request.caption, request.hashtags, request.campaign),
        ).fetchone()
        assert post is not None
        created = []
        for plan in plans:
            row = conn.execute(
                "insert into publish_targets (user_id, post_id, connection_id, platform, caption, title, hashtags, "
                "options, scheduled_at, timezone, next_attempt_at) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "returning id, platform, state, task_seq",
                (
                    user.id,
                    post["id"],
                    plan.connection["id"],
                    plan.adapter.key,
                    plan.caption,
                    plan.title,
                    plan.request.hashtags,
                    Jsonb(plan.request.options),
                    plan.scheduled_at,
                    plan.timezone,
                    plan.due_at,
                ),
            ).fetchone()
            assert row is not None
            created.append(dict(row))
    return str(post["id"]), created


def _plan_targets(conn: Conn, user: User, request: PublishRequest, now: datetime) -> list[PlannedTarget]:
    plans = []
    for target in request.targets:
        adapter, connection = _connection_for(conn, user, target)
        zone = target.timezone or request.timezone
        when = resolve_time(target.publish_at or request.publish_at, zone)
        title = target.title
        if adapter.limits.title is not None and adapter.limits.title.required and not title:
            caption = target.caption if target.caption is not None else request.caption
            title = default_title(caption, adapter.limits.title.max_length) or None
        plans.append(PlannedTarget(adapter, connection, target, when, zone, target.caption, title))
    return plans


def _check_budgets(rt: Runtime, plans: list[PlannedTarget], now: datetime) -> None:
    with rt.db.service() as conn:
        for plan in plans:
            problem = quota.budget_problem(
                # A staged target spends its budget on the day it stages (YouTube counts the upload day).
                conn, plan.adapter, account_id=plan.connection["platform_account_id"],
                at=plan.due_at or plan.scheduled_at or now,
                user_id=str(plan.connection["user_id"]),
            )
            if problem:
                raise ApiError(409, "over_platform_limit", problem, {"platform": plan.adapter.key})


def _claim_idempotency_key(conn: Conn, user_id: str, key: str, request_hash: str) -> dict[str, Any] | None:
    if len(key) > 200:
        raise ApiError(422, "invalid_idempotency_key", "The Idempotency-Key header is too long (200 characters max).")
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
        raise ApiError(
            422, "idempotency_key_reused", "This Idempotency-Key was already used for a different publish request."
        )
    if existing["response"] is None:
        raise ApiError(409, "in_progress", "This publish request is still being processed. Please wait a moment.")
    return dict(existing["response"])


# ------------------------------------------------------------------------------ status


def summarize(targets: list[dict[str, Any]]) -> str:
    total = len(targets)
    published = sum(1 for t in targets if t["state"] == states.PUBLISHED)
    failed = sum(1 for t in targets if t["state"] == states.FAILED)
    waiting = sum(1 for t in targets if t["state"] == states.NEEDS_RECONNECT)
    parts = [f"Published to {published} of {total} platform{'s' if total != 1 else ''}"]
    if failed:
        parts.append(f"{failed} failed")
    if waiting:
        parts.append(f"{waiting} waiting for you to reconnect")
    pending = total - published - failed - waiting - sum(1 for t in targets if t["state"] == states.CANCELED)
    if pending:
        parts.append(f"{pending} in progress or scheduled")
    return ", ".join(parts) + "."


def _target_view(row: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in row.items()}
    for key in ("id", "post_id", "connection_id"):
        if view.get(key) is not None:
            view[key] = str(view[key])
    view["can_edit"] = row["state"] in states.NOT_STARTED
    view["can_cancel"] = row["state"] in (states.SCHEDULED, states.QUEUED, states.DEFERRED, states.NEEDS_RECONNECT)
    view["can_retry"] = row["state"] == states.FAILED
    return view


def get_post(rt: Runtime, user: User, post_id: str) -> dict[str, Any]:
    with rt.db.user(user.claims) as conn:
        post = conn.execute(
            "select id, video_id, caption, hashtags, campaign, batch_id, created_at from posts where id = %s",
            (post_id,),
        ).fetchone()
        if post is None:
            raise ApiError(404, "post_not_found", "We couldn't find that post.")
        targets = conn.execute(
            sql.SQL("select {} from publish_targets where post_id = %s order by platform").format(_COLUMNS),
            (post_id,),
        ).fetchall()
    views = [_target_view(dict(t)) for t in targets]
    return {
        "post_id": str(post["id"]),
        "video_id": str(post["video_id"]),
        "caption": post["caption"],
        "hashtags": post["hashtags"],
        "campaign": post["campaign"],
        "created_at": post["created_at"].isoformat(),
        "summary": summarize(views),
        "done": all(t["state"] in states.TERMINAL or t["state"] == states.NEEDS_RECONNECT for t in views),
        "targets": views,
    }


def wait_for_post(rt: Runtime, user: User, post_id: str, seconds: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + seconds
    while True:
        view = get_post(rt, user, post_id)
        if view["done"]:
            return view
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def list_posts(rt: Runtime, user: User, query: PostQuery) -> dict[str, Any]:
    """The calendar: a user's targets by time, with filters."""
    with rt.db.user(user.claims) as conn:
        rows = conn.execute(
            "select t.id, t.post_id, t.platform, t.state, t.scheduled_at, t.timezone, t.platform_url, "
            "t.user_message, t.published_at, t.created_at, p.caption, p.campaign, p.video_id "
            "from publish_targets t join posts p on p.id = t.post_id "
            "where (%(start)s::timestamptz is null or coalesce(t.scheduled_at, t.created_at) >= %(start)s) "
            "and (%(end)s::timestamptz is null or coalesce(t.scheduled_at, t.created_at) < %(end)s) "
            "and (%(platform)s::text is null or t.platform = %(platform)s) "
            "and (%(campaign)s::text is null or p.campaign = %(campaign)s) "
            "and (%(state)s::text is null or t.state = %(state)s) "
            "order by coalesce(t.scheduled_at, t.created_at) limit %(limit)s",
            query.model_dump(by_alias=False),
        ).fetchall()
    items = []
    for row in rows:
        item = dict(row)
        for key in ("id", "post_id", "video_id"):
            item[key] = str(item[key])
        items.append(item)
    return {"items": items}


# ------------------------------------------------------------------------ edit / cancel


def edit_target(rt: Runtime, user: User, target_id: str, edit: TargetEdit) -> dict[str, Any]:
    now = rt.clock()
    with rt.db.user(user.claims) as conn:
        current = conn.execute(
            sql.SQL("select {} from publish_targets where id = %s").format(_COLUMNS),
            (target_id,),
        ).fetchone()
        if current is None:
            raise ApiError(404, "target_not_found", "We couldn't find that scheduled post.")
        if current["state"] not in states.NOT_STARTED:
            raise ApiError(409, "already_started", "This post is already publishing or done, so it can't be edited.")
        if _staged(conn, target_id):
            raise ApiError(409, "already_staged", "This post is already on the platform, waiting for its time, so "
                                                  "it can't be edited. Cancel it and schedule it again to change it.")
        adapter = adapters()[current["platform"]]
        zone = edit.timezone or current["timezone"]
        when = resolve_time(edit.publish_at, zone) if edit.publish_at else current["scheduled_at"]
        problem = check_schedule(when, now)
        caption = edit.caption if edit.caption is not None else current["caption"]
        title = edit.title if edit.title is not None else current["title"]
        hashtags = edit.hashtags if edit.hashtags is not None else current["hashtags"]
        found = [problem] if problem else []
        if caption is not None:
            found += text.problems(
                caption_with_hashtags(caption, hashtags or []), adapter.limits.caption, "caption", adapter.display_name
            )
        if title is not None and adapter.limits.title is not None:
            found += text.problems(title, adapter.limits.title, "title", adapter.display_name)
        if found:
            raise ApiError(422, "not_publishable", " ".join(found), found)
        with server_writes(conn):
            # Still scheduled at the moment of writing: the worker may have started it meanwhile.
            updated = conn.execute(
                sql.SQL(
                    "update publish_targets set caption = %s, title = %s, hashtags = %s, options = %s, "
                    "scheduled_at = %s, timezone = %s where id = %s and user_id = %s and state = 'scheduled' "
                    "and not (step_data ? 'staged') returning {}"
                ).format(_COLUMNS),
                (
                    caption,
                    title,
                    hashtags,
                    Jsonb(edit.options if edit.options is not None else current["options"]),
                    when,
                    zone,
                    target_id,
                    user.id,
                ),
            ).fetchone()
            if updated is not None and when is not None:
                # The schedule trigger moved it to the slot; a staged platform starts its lead time before.
                updated = conn.execute(
                    sql.SQL("update publish_targets set next_attempt_at = %s where id = %s returning {}").format(
                        _COLUMNS), (staging.due_at(rt.adapter(current["platform"]), when, now), target_id),
                ).fetchone()
    if updated is None:
        raise ApiError(409, "already_started", "This post started publishing just now, so it can't be edited.")
    return _target_view(dict(updated))


def _staged(conn: Conn, target_id: str) -> bool:
    row = conn.execute("select step_data ? 'staged' as staged from publish_targets where id = %s",
                       (target_id,)).fetchone()
    return bool(row and row["staged"])


def cancel_target(rt: Runtime, user: User, target_id: str) -> dict[str, Any]:
    with rt.db.user(user.claims) as conn:
        row = conn.execute("select * from cancel_target(%s)", (target_id,)).fetchone()
        if row is None or row["id"] is None:
            exists = conn.execute("select state, step_data ? 'pending_call' as maybe_live from publish_targets "
                                  "where id = %s", (target_id,)).fetchone()
            if exists is None:
                raise ApiError(404, "target_not_found", "We couldn't find that post.")
            if exists["maybe_live"]:
                raise ApiError(409, "cannot_cancel", "This video may already be live, so it can't be canceled. "
                                                     "We'll check with the platform (after you reconnect, if asked).")
            raise ApiError(
                409, "cannot_cancel", f"This post is already {exists['state'].replace('_', ' ')}; it can't be canceled."
            )
        adapter = rt.adapter(row["platform"])
        unstage = adapter.unstage_step is not None and adapter.staged_object(row["step_data"] or {})
        if unstage:
            # The staged object would still go out on the platform: the worker removes it.
            with server_writes(conn):
                row = conn.execute(
                    "update publish_targets set step_data = step_data || '{\"unstage\": true}'::jsonb, "
                    "next_attempt_at = %s, task_seq = task_seq + 1 where id = %s returning *",
                    (rt.clock(), target_id),
                ).fetchone()
    assert row is not None
    if unstage:
        rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])
    return _target_view({k: row[k] for k in TARGET_FIELDS})


def retry_target(rt: Runtime, user: User, target_id: str) -> dict[str, Any]:
    with rt.db.user(user.claims) as conn:
        row = conn.execute("select * from retry_target(%s)", (target_id,)).fetchone()
        if row is None or row["id"] is None:
            exists = conn.execute("select state from publish_targets where id = %s", (target_id,)).fetchone()
            if exists is None:
                raise ApiError(404, "target_not_found", "We couldn't find that post.")
            raise ApiError(409, "cannot_retry", "Only failed posts can be retried.")
    rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])
    return _target_view({k: row[k] for k in TARGET_FIELDS})
