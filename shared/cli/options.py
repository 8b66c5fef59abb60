"""Checking what the user typed before anything is uploaded."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}


class OptionError(ValueError):
    """A plain sentence about what to type instead."""


def platform_names() -> list[str]:
    from shared.platforms import adapters

    return sorted({name for cls in adapters().values() for name in (cls.key, cls.network)})


def parse_platforms(value: str) -> list[str]:
    known = platform_names()
    chosen = [p.strip().lower() for p in value.split(",") if p.strip()]
    if not chosen:
        raise OptionError(f"Name at least one platform, e.g. --to tiktok,youtube. Choose from: {', '.join(known)}.")
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise OptionError(f"We can't publish to '{unknown[0]}'. Choose from: {', '.join(known)}.")
    if len(set(chosen)) != len(chosen):
        raise OptionError("A platform is listed twice; each gets the video once.")
    return chosen


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OptionError(f"'{name}' is not a time zone we know; use a name like 'Europe/Berlin'.") from None


def local_zone_name() -> str:
    """The IANA name of this computer's zone (the user's own clock), or UTC when it can't be told."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if configured:
        try:
            ZoneInfo(configured)
            return configured
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return "UTC"


def parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        raise OptionError(f"'{value}' is not a time we can read; write it like 2026-05-01T18:30.") from None


def video_type(path: Path) -> str:
    content_type = VIDEO_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise OptionError(f"{path.name} is not a video file we take; use an .mp4, .mov or .webm file.")
    return content_type
