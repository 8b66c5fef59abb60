"""One check of a platform post, the same when it is created and when it is edited.

Options against the platform's declared model (shared/platforms/<key>/options.py)
and the account's live settings, caption/title/tags against the platform's counting
rules, the video against its media rules, the cover frame within the video, and the
time against the scheduling window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shared.platforms import options_model
from shared.platforms.base import PlatformAdapter, caption_with_hashtags
from shared.platforms.options import PlatformOptions
from shared.publishing import text
from shared.publishing.requests import check_schedule


def problem_of(field: str, code: str, message: str) -> dict[str, str]:
    """One problem as the API shows it, the same in a preview and in a refused publish."""
    return {"field": field, "code": code, "message": message}


@dataclass
class Checked:
    # Every problem as {"field", "code", "message"}; `field` is relative to the target.
    found: list[dict[str, str]] = field(default_factory=list)
    options: PlatformOptions | None = None

    @property
    def problems(self) -> list[str]:
        return [p["message"] for p in self.found]


def default_title(caption: str, max_length: int) -> str:
    """A title from the caption's first line, for platforms that need one."""
    first = (caption.strip().splitlines() or [""])[0]
    first = first.replace("<", "").replace(">", "")
    return first if len(first) <= max_length else first[: max_length - 1].rstrip() + "…"


def _options(adapter: type[PlatformAdapter], options: Mapping[str, Any] | PlatformOptions) -> Checked:
    model = options_model(adapter.key)
    raw = options.model_dump(exclude_unset=True) if isinstance(options, PlatformOptions) else dict(options)
    try:
        return Checked(options=model.model_validate(raw))
    except ValidationError as exc:
        fields = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "options"
            problem = "unknown option" if err["type"] == "extra_forbidden" else \
                str(err["msg"]).removeprefix("Value error, ")
            at = f"options.{where}" if where != "options" else where
            fields.append(problem_of(at, "invalid_option", f"{at}: {problem}"))
        return Checked(fields, None)


def _text(adapter: type[PlatformAdapter], caption: str, title: str | None, hashtags: list[str]
          ) -> list[dict[str, str]]:
    limits = adapter.limits
    full = caption_with_hashtags(caption, hashtags)
    found = [problem_of("caption", code, message)
             for code, message in text.issues(full, limits.caption, "caption", adapter.display_name)]
    if limits.title is not None:
        shown = title if title is not None else default_title(full, limits.title.max_length)
        found += [problem_of("title", code, message)
                  for code, message in text.issues(shown, limits.title, "title", adapter.display_name)]
    if limits.tags_total_chars is not None:
        tags_length = len(",".join(f'"{t}"' if " " in t else t for t in hashtags))
        if tags_length > limits.tags_total_chars:
            found.append(problem_of("hashtags", "tags_too_long",
                                    f"{adapter.display_name} allows {limits.tags_total_chars} characters of tags "
                                    f"in all; these have {tags_length}."))
    return found


def _media(adapter: type[PlatformAdapter], video: Mapping[str, Any]) -> list[dict[str, str]]:
    from shared.media.validate import validate

    if not video.get("probe"):
        return []
    verdict = validate(video["probe"], adapter.limits, platform=adapter.display_name)
    # Fixable problems (codec, pixel format, moov position, bitrate) are converted at publish time (EC-2).
    return [problem_of("video_id", p.code, p.message) for p in verdict.problems if not p.fixable]


def _cover(options: PlatformOptions, video: Mapping[str, Any]) -> list[dict[str, str]]:
    offset = options.cover_offset()
    duration = (video.get("probe") or {}).get("duration_s")
    if offset is None or not isinstance(duration, (int, float)) or offset <= duration:
        return []
    return [problem_of("options.cover_offset_seconds", "cover_outside_video",
                       f"The cover frame must be within the video: it is {duration:g} seconds long, so choose an "
                       f"offset from 0 to {duration:g}.")]


def check_target(
    adapter: type[PlatformAdapter], *, video: Mapping[str, Any], caption: str, title: str | None,
    hashtags: list[str], options: Mapping[str, Any] | PlatformOptions, scheduled_at: datetime | None,
    now: datetime, live: Mapping[str, Any] | None = None,
) -> Checked:
    """Every problem of one platform post, in the user's words; `options` comes back typed when valid."""
    checked = _options(adapter, options)
    if checked.options is not None:
        checked.found += [problem_of("options", "option_unavailable", message)
                          for message in checked.options.problems(live or {})]
        checked.found += _cover(checked.options, video)
    checked.found += _text(adapter, caption, title, hashtags)
    checked.found += _media(adapter, video)
    schedule_problem = check_schedule(scheduled_at, now)
    if schedule_problem:
        checked.found.append(problem_of("publish_at", "time_not_allowed", schedule_problem))
    return checked
