"""A publish request answered as a preview: what each platform would receive, and what is wrong.

The checks are the ones publishing runs (`service.plan_post`), so a preview and a publish
of the same body never disagree. Nothing is stored and no platform write endpoint is
called (TikTok's creator_info is a read, cached for a minute).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.media.validate import validate
from shared.platforms import cover_frame, feed_cutoff
from shared.platforms.base import Credentials, PlatformAdapter, PublishJob, TextRule
from shared.platforms.errors import PlatformError
from shared.publishing import quota, text
from shared.publishing.requests import MAX_SCHEDULE_AHEAD, PublishRequest
from shared.publishing.runtime import Runtime
from shared.publishing.service import PlannedTarget, PostPlan, plan_post, stored_options
from shared.responses import PublishPreview
from shared.storage.base import Storage
from shared.users import User

# How long the signed cover URL of a preview stays valid.
PREVIEW_URL_SECONDS = 15 * 60

@dataclass
class _NoMedia:
    """Stands in for the video in a job that is only used to compose text: nothing is read."""

    filename: str
    url: str = ""
    size: int = 0
    content_type: str = "video/mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = 8 * 1024 * 1024) -> Iterator[bytes]:
        raise RuntimeError("a preview never reads the video")


def composed_text(adapter: type[PlatformAdapter], *, caption: str, title: str | None, hashtags: Iterable[str],
                  options: Mapping[str, Any], account_id: str, filename: str | None, now: datetime) -> dict[str, str]:
    """The text fields the platform receives, from the job the worker would build (worker._job)."""
    job = PublishJob(
        target_id="preview",
        credentials=Credentials(access_token="", account_id=account_id),
        video=_NoMedia(filename=filename or "video.mp4"),
        caption=caption, title=title, hashtags=tuple(hashtags), options=dict(options), now=now,
    )
    return adapter.sent_text(job)


def _rule(adapter: type[PlatformAdapter], name: str) -> TextRule | None:
    return adapter.limits.title if name == "title" else adapter.limits.caption


def _texts(plan: PlannedTarget, request: PublishRequest, video: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    adapter = plan.adapter
    hashtags = plan.request.hashtags if plan.request.hashtags is not None else request.hashtags
    try:
        sent = composed_text(adapter, caption=plan.caption if plan.caption is not None else request.caption,
                             title=plan.title, hashtags=hashtags or (), options=stored_options(plan.options),
                             account_id=str(plan.connection["platform_account_id"]),
                             filename=video.get("original_filename"), now=now)
    except PlatformError:
        return []  # options the platform can't take: reported among the problems
    # Where the feed hides the text behind "more": declared with its source in shared/platforms/<key>/feed.py.
    feed = feed_cutoff(adapter.key)
    texts = []
    for name, value in sent.items():
        rule = _rule(adapter, name)
        length = text.measure(value, rule.unit) if rule else len(value)
        in_feed = name in ("caption", "description")
        cutoff = feed.chars if in_feed else None
        texts.append({
            "field": name, "text": value, "length": length, "unit": rule.unit if rule else "chars",
            "limit": rule.max_length if rule else None, "fits": rule is None or length <= rule.max_length,
            "feed_cutoff": cutoff, "feed_cutoff_source": feed.source if in_feed else None,
            "visible_in_feed": value[:cutoff] if cutoff is not None else None,
        })
    return texts


def _media(plan: PlannedTarget, video: dict[str, Any], renditions: dict[str, str]) -> dict[str, Any]:
    # Imported here: the media modules bring PyAV and numpy, which only a preview needs (cold starts of
    # the publishing function, bench/cold_start.py).
    from shared.media.renditions import CONVERTED_VERTICAL, conversion_kind

    adapter = plan.adapter
    if not video.get("probe"):
        return {"verdict": "unknown", "reasons": ["The video has not been checked yet."], "rendition_ready": False}
    verdict = validate(video["probe"], adapter.limits, platform=adapter.display_name)
    refused = [p.message for p in verdict.problems if not p.fixable]
    if refused:
        return {"verdict": "refused", "reasons": refused, "rendition_ready": False}
    if verdict.problems:
        # The copy this platform would get: its own encode's kind (shared with equal encodes), or the user's crop.
        ready = conversion_kind(adapter.key) in renditions or CONVERTED_VERTICAL in renditions
        return {"verdict": "will_convert", "reasons": [p.message for p in verdict.problems], "rendition_ready": ready}
    return {"verdict": "fits", "reasons": [], "rendition_ready": True}


def _cover(plan: PlannedTarget, video: dict[str, Any], renditions: dict[str, str], files: Storage) -> dict[str, Any]:
    """The cover this platform will show: the uploaded one, else the chosen frame as the platform will get it."""
    from shared.media.covers import CoverError, cover_kind, frame_image  # PyAV with it: see _media

    key = plan.adapter.key
    path = renditions.get(cover_kind(key))
    if path is not None:
        return {"url": files.signed_url(path, PREVIEW_URL_SECONDS), "offset_seconds": None}
    offset = plan.options.cover_offset() if plan.options is not None else None
    route = cover_frame(key)
    duration = (video.get("probe") or {}).get("duration_s")
    if offset is None or route is None or not isinstance(duration, (int, float)) or offset > duration:
        # No frame chosen, a platform that takes none, or a time outside the video (among the problems).
        return {"url": None, "offset_seconds": offset if route is not None else None}
    # "image" platforms get the frame fitted to their cover size: the preview shows that very file.
    spec = plan.adapter.limits.cover if route == "image" else None
    owned = {**video, "user_id": plan.connection["user_id"]}
    try:
        frame = frame_image(files, owned, offset, spec=spec, platform=key)
    except (CoverError, OSError, ValueError):
        return {"url": None, "offset_seconds": offset}
    return {"url": files.signed_url(frame, PREVIEW_URL_SECONDS), "offset_seconds": offset}


def _schedule(plan: PlannedTarget, now: datetime, budgets: list[dict[str, Any]]) -> dict[str, Any]:
    at = plan.scheduled_at or now
    return {
        "publish_now": plan.scheduled_at is None,
        "at_utc": at.astimezone(ZoneInfo("UTC")).isoformat(),
        "at_local": at.astimezone(ZoneInfo(plan.timezone)).isoformat(),
        "timezone": plan.timezone,
        "fits_budget": plan.budget_problem is None,
        "budgets": budgets,
    }


def _target_view(plan: PlannedTarget, request: PublishRequest, video: dict[str, Any], renditions: dict[str, str],
                 now: datetime, budgets: list[dict[str, Any]], files: Storage) -> dict[str, Any]:
    connection = plan.connection
    info = connection.get("account_info") or {}
    problems = [*plan.problems, *([plan.budget_problem] if plan.budget_problem else [])]
    return {
        "platform": plan.adapter.key,
        "network": plan.adapter.network,
        "platform_name": plan.adapter.display_name,
        "connection_id": str(connection["id"]),
        "account": {
            "username": connection.get("username"),
            "display_name": connection.get("display_name") or info.get("display_name"),
            "avatar_url": connection.get("avatar_url") or info.get("avatar_url"),
        },
        "texts": _texts(plan, request, video, now),
        "options": stored_options(plan.options),
        "creator_options": plan.live or None,
        "media": _media(plan, video, renditions),
        "cover": _cover(plan, video, renditions, files),
        "schedule": _schedule(plan, now, budgets),
        "problems": problems,
    }


def _earliest_fit(conn: Any, plan: PlannedTarget, now: datetime) -> datetime | None:
    """The same time of day on the first later day whose budgets have room (within the scheduling window)."""
    at = plan.scheduled_at or now
    for days in range(1, MAX_SCHEDULE_AHEAD.days + 1):
        later = at + timedelta(days=days)
        if later > now + MAX_SCHEDULE_AHEAD:
            return None
        if quota.budget_problem(conn, plan.adapter, account_id=plan.connection["platform_account_id"], at=later,
                                user_id=str(plan.connection["user_id"])) is None:
            return later
    return None


def preview_post(rt: Runtime, user: User, request: PublishRequest, files: Storage) -> PublishPreview:
    """What publishing `request` would do, per target; stores nothing."""
    now = rt.clock()
    # `publish_at: "best"` shows the slot publish would take.
    request = rt.best_times(rt, user, request, now)
    with rt.db.user(user.claims) as conn:
        plan: PostPlan = plan_post(rt, conn, user, request, now)
        rows = conn.execute("select kind, storage_path from video_renditions where video_id = %s",
                            (plan.video["id"],)).fetchall()
        renditions = {row["kind"]: str(row["storage_path"]) for row in rows}
        accounts = conn.execute(
            "select id, display_name, avatar_url from social_connections where id = any(%s)",
            ([t.connection["id"] for t in plan.targets],),
        ).fetchall()
    profile = {row["id"]: row for row in accounts}
    for target in plan.targets:
        row = profile.get(target.connection["id"])
        if row is not None:
            target.connection = {**target.connection, "display_name": row["display_name"],
                                 "avatar_url": row["avatar_url"]}
    with rt.db.service() as conn:
        budgets = [quota.budgets_left(conn, t.adapter, account_id=t.connection["platform_account_id"],
                                      at=t.scheduled_at or now, user_id=str(t.connection["user_id"]))
                   for t in plan.targets]
        earliest = {t.index: _earliest_fit(conn, t, now) for t in plan.targets if t.budget_problem}
    views = [_target_view(t, request, plan.video, renditions, now, b, files) for t, b in zip(plan.targets, budgets,
                                                                                        strict=True)]
    for view, target in zip(views, plan.targets, strict=True):
        found = earliest.get(target.index)
        view["schedule"]["earliest_fit_utc"] = found.isoformat() if found else None
    problems = [p for view in views for p in view["problems"]]
    return PublishPreview.model_validate({"video_id": str(plan.video["id"]), "publishable": not problems,
                                          "problems": problems, "targets": views})
