"""The video resource (snippet + status) sent with `videos.insert`, built from a job.

Options a target may carry (all optional):
  privacy_status   "public" (default) | "unlisted" | "private"; "privacy" is accepted too
  publish_at       ISO-8601 time: YouTube keeps the video private and makes it public then
  category_id      default "22" (People & Blogs)
  made_for_kids    default False (COPPA self-declaration; always sent)
  contains_synthetic_media  default True: our videos are AI-generated
  notify_subscribers        default True
  tags             list of tags; default: the job's hashtags
  description      default: the caption plus any hashtags not already in it
  default_language BCP-47 code, e.g. "en"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from shared.platforms.base import PublishJob
from shared.platforms.errors import PermanentError

TITLE_MAX_CHARS = 100
TAGS_MAX_CHARS = 500
PRIVACY_STATUSES = ("public", "unlisted", "private")
DEFAULT_CATEGORY = "22"  # People & Blogs
_FORBIDDEN = str.maketrans("", "", "<>")


def tags_length(tags: Iterable[str]) -> int:
    """How YouTube counts tags: commas between them, quotes around tags with spaces."""
    tags = list(tags)
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def fit_tags(tags: Iterable[str], budget: int = TAGS_MAX_CHARS) -> list[str]:
    """Keep tags in order while they fit YouTube's total; skip duplicates and ones that overflow."""
    kept: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").translate(_FORBIDDEN).strip()
        if tag and tag.lower() not in {k.lower() for k in kept} and tags_length([*kept, tag]) <= budget:
            kept.append(tag)
    return kept


def default_title(caption: str, filename: str) -> str:
    """A title from the caption's first line (YouTube requires one), at most 100 characters."""
    first_line = next((line.strip() for line in caption.splitlines() if line.strip()), "")
    title = " ".join(first_line.translate(_FORBIDDEN).split())
    if not title:
        stem = PurePosixPath(filename).stem.translate(_FORBIDDEN)
        title = " ".join(stem.replace("_", " ").replace("-", " ").split())
    title = title or "My Short"
    if len(title) > TITLE_MAX_CHARS:
        cut = title[: TITLE_MAX_CHARS - 1]
        title = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"
    return title


def description(caption: str, hashtags: Iterable[str]) -> str:
    """The caption, followed by the hashtags it does not already contain."""
    words = {word.lower() for word in caption.split()}
    missing = [f"#{tag.lstrip('#')}" for tag in hashtags if f"#{tag.lstrip('#')}".lower() not in words]
    return "\n\n".join(part for part in (caption.strip(), " ".join(missing)) if part)


def _flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")


def video_resource(job: PublishJob) -> dict[str, Any]:
    """The JSON body of the upload session: what YouTube shows, and who may see it."""
    options = job.options
    privacy = str(options.get("privacy_status") or options.get("privacy") or "public").lower()
    if privacy not in PRIVACY_STATUSES:
        raise PermanentError(
            "The YouTube visibility must be public, unlisted or private. Pick one and try again.",
            platform="youtube", code="invalidPrivacyOption", detail=privacy,
        )
    tags = options.get("tags")
    snippet: dict[str, Any] = {
        "title": job.title or options.get("title") or default_title(job.caption, job.video.filename),
        "description": options.get("description") or description(job.caption, job.hashtags),
        "tags": fit_tags(tags if tags is not None else job.hashtags),
        "categoryId": str(options.get("category_id") or DEFAULT_CATEGORY),
    }
    if options.get("default_language"):
        snippet["defaultLanguage"] = snippet["defaultAudioLanguage"] = str(options["default_language"])
    status: dict[str, Any] = {
        # Always explicit: since Nov 2 2026 YouTube makes a video public when it is omitted.
        "privacyStatus": privacy,
        "selfDeclaredMadeForKids": _flag(options, "made_for_kids", False),
        "containsSyntheticMedia": _flag(options, "contains_synthetic_media", True),
    }
    publish_at = options.get("publish_at")
    if publish_at:
        # YouTube only schedules private videos; it makes them public at publishAt.
        status["privacyStatus"] = "private"
        status["publishAt"] = publish_at.isoformat() if isinstance(publish_at, datetime) else str(publish_at)
    return {"snippet": snippet, "status": status}


def notify_subscribers(job: PublishJob) -> bool:
    return _flag(job.options, "notify_subscribers", True)
