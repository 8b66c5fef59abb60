"""The evaluation set (30 short video descriptions, 4 languages) as writer input, and its checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.captions import hashtags
from shared.captions.limits import PlatformTarget
from shared.captions.models import Material
from shared.publishing import text

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "evaluation_set.json").read_text())
PLATFORMS = ["tiktok", "instagram", "youtube", "facebook"]


def material(case: dict[str, Any], tone: str = "friendly") -> Material:
    return Material(description=case.get("description"), prompt=case.get("prompt"), brand=case.get("brand"),
                    brief=case.get("brief"), campaign=case.get("campaign"), language=case["language"],
                    tone=tone)  # type: ignore[arg-type]


def limit_problems(item: dict[str, Any], target: PlatformTarget) -> list[str]:
    """What is wrong with a finished suggestion under the platform's own rules (empty: nothing)."""
    found = text.problems(item["text"], target.caption_rule, "caption", target.display_name)
    if target.title_rule is not None:
        found += text.problems(item["title"] or "", target.title_rule, "title", target.display_name)
    return found


def tag_problems(item: dict[str, Any]) -> list[str]:
    tags = item["hashtags"]
    found = [f"#{t} {hashtags.problem(t)}" for t in tags if hashtags.problem(t)]
    if not hashtags.MIN_TAGS <= len(tags) <= hashtags.MAX_TAGS:
        found.append(f"{len(tags)} hashtags")
    if len({t.lower() for t in tags}) != len(tags):
        found.append("a hashtag twice")
    return found
