"""Bulk publishing (FR-10): many videos to the same platforms in one request.

Up to 10 videos are created in the request itself; larger batches are stored and
expanded in the background by the scheduler tick, and the user follows progress.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from shared.errors import DomainError, NotFound
from shared.log import get_logger
from shared.publishing import service
from shared.publishing.requests import BulkPublishRequest
from shared.publishing.runtime import Runtime
from shared.publishing.states import State
from shared.responses import BatchAccepted, BatchProgress, RejectedVideo, TargetCounts
from shared.users import User

log = get_logger(__name__)
INLINE_LIMIT = 10


def submit(rt: Runtime, user: User, request: BulkPublishRequest,
           raw_body: bytes) -> tuple[BatchProgress | BatchAccepted, int]:
    with rt.db.service() as conn:
        batch = conn.execute(
            "insert into publish_batches (user_id, total, status, request) values (%s, %s, %s, %s) returning id",
            (user.id, len(request.items), "accepted", Jsonb({"request": request.model_dump(mode="json")})),
        ).fetchone()
    assert batch is not None
    batch_id = str(batch["id"])
    if len(request.items) <= INLINE_LIMIT:
        _expand(rt, user, batch_id, request)
        return progress(rt, user, batch_id), 201
    return BatchAccepted(batch_id=batch_id, total=len(request.items), status="accepted"), 202


def _expand(rt: Runtime, user: User, batch_id: str, request: BulkPublishRequest) -> None:
    errors = []
    with rt.db.service() as conn:
        conn.execute("update publish_batches set status = 'expanding' where id = %s", (batch_id,))
    for index, item in enumerate(request.items):
        try:
            service.create_post(rt, user, request.request_for(item), batch_id=batch_id)
        except DomainError as err:
            errors.append({"index": index, "video_id": str(item.video_id), "message": err.message})
    with rt.db.service() as conn:
        conn.execute(
            "update publish_batches set status = 'expanded', request = request || %s where id = %s",
            (Jsonb({"errors": errors}), batch_id),
        )


def expand_pending(rt: Runtime, limit: int = 5) -> int:
    """Expand batches accepted for the background (called by the scheduler tick)."""
    with rt.db.service() as conn:
        rows = conn.execute(
            "update publish_batches b set status = 'expanding' from auth.users u "
            "where b.id in (select id from publish_batches where status = 'accepted' order by created_at "
            "limit %s for update skip locked) and u.id = b.user_id "
            "returning b.id, b.user_id, u.email, b.request",
            (limit,),
        ).fetchall()
    for row in rows:
        user = User(id=str(row["user_id"]), email=row["email"],
                    claims={"sub": str(row["user_id"]), "role": "authenticated", "email": row["email"]})
        try:
            _expand(rt, user, str(row["id"]), BulkPublishRequest.model_validate(row["request"]["request"]))
        except Exception:
            log.exception("bulk expansion failed", batch_id=str(row["id"]))
            with rt.db.service() as conn:
                conn.execute("update publish_batches set status = 'failed' where id = %s", (row["id"],))
    return len(rows)


def progress(rt: Runtime, user: User, batch_id: str) -> BatchProgress:
    with rt.db.user(user.claims) as conn:
        batch = conn.execute(
            "select id, total, status, request -> 'errors' as errors from publish_batches where id = %s", (batch_id,)
        ).fetchone()
        if batch is None:
            raise NotFound("We couldn't find that batch.", code="batch_not_found")
        counts = conn.execute(
            "select t.state, count(*) as n from publish_targets t join posts p on p.id = t.post_id "
            "where p.batch_id = %s group by t.state",
            (batch_id,),
        ).fetchall()
        posts = conn.execute("select id from posts where batch_id = %s order by created_at", (batch_id,)).fetchall()
    by_state = {row["state"]: row["n"] for row in counts}
    done = by_state.get(State.PUBLISHED, 0)
    failed = by_state.get(State.FAILED, 0)
    total_targets = sum(by_state.values())
    errors = batch["errors"] or []
    return BatchProgress(
        batch_id=str(batch["id"]),
        status=batch["status"],
        videos=batch["total"],
        posts=[str(p["id"]) for p in posts],
        targets=TargetCounts(done=done, failed=failed, pending=total_targets - done - failed, by_state=by_state),
        rejected_videos=[RejectedVideo.model_validate(error) for error in errors],
        summary=f"{done} of {total_targets} platform posts published"
        + (f", {failed} failed" if failed else "")
        + (f"; {len(errors)} videos could not be scheduled" if errors else "")
        + ".",
    )
