"""Steps many pipeline scenarios share: connect accounts, upload the video, publish, find targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.stack import Harness

CAPTION = "Spring sale starts today!"
NETWORKS = ("tiktok", "instagram", "youtube", "facebook")


def target_request(platform: str) -> dict[str, Any]:
    if platform in ("tiktok", "blotato"):
        return {"platform": platform, "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}}
    if platform == "youtube":
        return {"platform": platform, "title": "Spring sale"}
    return {"platform": platform}


def connect(harness: Harness, user: dict[str, str], platform: str) -> str:
    return harness.connect_blotato(user) if platform == "blotato" else harness.connect(user, platform)


def publish(harness: Harness, user: dict[str, str], video: Path, platforms: tuple[str, ...] | list[str],
            *, before: Any = None, **request: Any) -> dict[str, Any]:
    """Connect each platform, upload the video, call `before()` (to inject faults after the
    connect flow's own calls), publish; returns the create answer plus `by_platform` ids."""
    for platform in platforms:
        connect(harness, user, platform)
    video_id = harness.video(user, video)
    if before is not None:
        before()
    answer = harness.publish(user, video_id=video_id, caption=request.pop("caption", CAPTION),
                             targets=[target_request(p) for p in platforms], **request)
    answer["video_id"] = video_id
    answer["by_platform"] = {t["platform"]: t["target_id"] for t in answer["targets"]}
    return answer


RETRY_OUTCOMES = ("uploading", "processing", "publishing", "reconciling")


def failed_steps(harness: Harness, target_id: str) -> list[tuple[Any, dict[str, Any]]]:
    """(clock at delivery, target row after it) for each delivery that failed and scheduled a retry."""
    return [
        (at, row) for at, outcome, row in harness.history
        if str(row["id"]) == target_id and outcome in RETRY_OUTCOMES and row["error_class"] == "transient"
    ]
