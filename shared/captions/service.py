"""POST /captions: per-platform caption, title and hashtag suggestions for a video.

The writer is Gemini when it is configured, else (and whenever Gemini fails or
refuses) the local writer. Whatever a writer returns is re-checked here: hashtags
cleaned, filtered and counted, the account's proven hashtags preferred, and every
text fitted to the platform's limit as the platform counts it. Nothing is stored as a
caption: the user edits the suggestion and sends it with publish.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from shared.captions import hashtags, history, words
from shared.captions.limits import PlatformTarget, UnknownPlatform, count, fit, resolve, shorten, strip_forbidden
from shared.captions.local import LocalWriter, candidate_tags, spread_tags
from shared.captions.models import CaptionRequest, Draft, Material
from shared.captions.settings import CaptionSettings
from shared.db import Database
from shared.errors import InvalidInput, LimitReached, NotFound
from shared.log import get_logger
from shared.platforms.base import caption_with_hashtags
from shared.responses import CaptionSuggestions, PlatformSuggestion, TextCount
from shared.users import User

if TYPE_CHECKING:
    from shared.captions.gemini import GeminiWriter

log = get_logger(__name__)

_GENERIC_FILENAMES = {"original", "video", "clip", "movie", "untitled", "export", "final", "img", "vid", "demo"}


def _video(db: Database, user: User, video_id: uuid.UUID) -> dict[str, Any]:
    with db.user(user.claims) as conn:
        row = conn.execute(
            "select id, original_filename, generation_prompt, description, brand, language, deleted_at "
            "from videos where id = %s", (str(video_id),)).fetchone()
    if row is None or row["deleted_at"] is not None:
        raise NotFound("We couldn't find that video.", code="video_not_found")
    return dict(row)


def _filename_words(filename: str | None) -> str | None:
    stem = posixpath.splitext(filename or "")[0]
    found = [w for w in re.split(r"[\W_]+", stem) if w.isalpha() and w.lower() not in _GENERIC_FILENAMES]
    return " ".join(found) or None


def material_for(video: dict[str, Any], request: CaptionRequest, proven: dict[str, list[str]]) -> Material:
    described = any(video.get(k) for k in ("description", "generation_prompt")) or request.brief
    draft = Material(description=video.get("description"), prompt=video.get("generation_prompt"),
                     brand=video.get("brand"), brief=request.brief, campaign=request.campaign,
                     filename_words=None if described else _filename_words(video.get("original_filename")))
    language = words.base_language(request.language or video.get("language")) or words.guess_language(
        draft.source_text())
    return Material(description=draft.description, prompt=draft.prompt, brand=draft.brand, brief=draft.brief,
                    campaign=draft.campaign, filename_words=draft.filename_words, language=language,
                    tone=request.tone or "friendly", proven_tags=proven)


# ------------------------------------------------------------------------------ daily cap


def _reserve(db: Database, user: User, request: CaptionRequest, limit: int) -> tuple[int, int]:
    """Count this request against the user's daily cap: (row id, requests today including this one)."""
    with db.service() as conn:
        # One user's parallel requests queue here, so two can't both take the last one.
        conn.execute("select pg_advisory_xact_lock(hashtextextended('captions:' || %s, 0))", (user.id,))
        used = conn.execute(
            "select count(*) as n from caption_suggestions where user_id = %s "
            "and created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'", (user.id,),
        ).fetchone()
        used_today = int(used["n"]) if used else 0
        if used_today >= limit:
            now = datetime.now(UTC)
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            hours, minutes = divmod(int((midnight - now).total_seconds() // 60), 60)
            raise LimitReached(f"You have asked for {limit} caption suggestions today, the most we allow per day. "
                               f"You can ask again after midnight UTC (in {hours} h {minutes} min).",
                               code="daily_limit_reached", detail={"limit": limit, "resets_at": midnight.isoformat()})
        row = conn.execute(
            "insert into caption_suggestions (user_id, video_id, platforms) values (%s, %s, %s) returning id",
            (user.id, str(request.video_id), request.platforms)).fetchone()
    assert row is not None
    return int(row["id"]), used_today + 1


def _record(db: Database, usage_id: int, engine: str, prompt_tokens: int | None, output_tokens: int | None) -> None:
    with db.service() as conn:
        conn.execute("update caption_suggestions set engine = %s, prompt_tokens = %s, output_tokens = %s "
                     "where id = %s", (engine, prompt_tokens, output_tokens, usage_id))


# ------------------------------------------------------------------------------ re-checking


def finish(draft: Draft, target: PlatformTarget, material: Material, fallback_tags: list[str]) -> PlatformSuggestion:
    """A writer's draft made safe: valid related hashtags (3-5), proven ones first, every text within its limit."""
    notes = list(draft.notes)
    keys = hashtags.source_keys(material.source_text(), material.language)
    tags: list[str] = []
    for raw in draft.hashtags:
        tag = hashtags.clean(raw)
        why = hashtags.problem(tag) if tag else "is empty"
        if why:
            notes.append(f"Left out #{raw.lstrip('#')}: it {why}.")
        else:
            tags.append(tag)
    tags = hashtags.dedupe(tags)
    for extra in fallback_tags:
        if len(tags) >= hashtags.MIN_TAGS:
            break
        if words.fold(extra) not in {words.fold(t) for t in tags}:
            tags.append(extra)
    proven = [t for t in material.proven_tags.get(target.network, [])
              if hashtags.valid(t) and hashtags.relates(t, keys, material.language)][:2]
    for tag in reversed(proven):
        tags = [tag] + [t for t in tags if words.fold(t) != words.fold(tag)]
        notes.append(f"#{tag} did well for you on {target.display_name}.")
    tags = tags[:hashtags.MAX_TAGS]
    caption = draft.caption.strip()
    style = material.winning_styles.get(target.network)
    if style:
        caption, tags = _like_the_winner(caption, tags, style, target, notes)

    caption, tags, cut = fit(caption, tags, target.caption_rule)
    if cut:
        notes.append(f"The caption was shortened to fit {target.display_name}'s limit.")
    title = None
    title_rule = target.title_rule
    if title_rule is not None:
        first_line = caption.splitlines()[0] if caption else ""
        raw_title = " ".join((draft.title or first_line).split())
        title = strip_forbidden(raw_title, title_rule) or (material.brand or "")
        fitted = shorten(title, title_rule.max_length, title_rule.unit)
        if fitted != title:
            notes.append(f"The title was shortened to {title_rule.max_length} characters.")
        title = fitted
    posted = caption_with_hashtags(caption, tags)
    counts = [count(posted, target.caption_rule, "caption")]
    if title is not None and title_rule is not None:
        counts.append(count(title, title_rule, "title"))
    return PlatformSuggestion(platform=target.key, display_name=target.display_name, caption=caption, title=title,
                              hashtags=tags, text=posted, counts=[TextCount.model_validate(c) for c in counts],
                              notes=notes)


def _like_the_winner(caption: str, tags: list[str], style: dict[str, Any], target: PlatformTarget,
                     notes: list[str]) -> tuple[str, list[str]]:
    """Shape a suggestion like the variant that won the user's A/B test on this network (FR-14)."""
    wanted_tags = min(hashtags.MAX_TAGS, max(hashtags.MIN_TAGS, int(style.get("hashtag_count") or len(tags))))
    tags = tags[:wanted_tags]
    short = int(style.get("caption_length") or 0) <= history.SHORT_CAPTION_CHARS
    if short:
        caption = shorten(caption.splitlines()[0] if caption else caption, history.SHORT_CAPTION_CHARS,
                          target.caption_rule.unit)
    notes.append(f"Written like the winner of your A/B test on {target.display_name}: "
                 f"{'a short caption' if short else 'a longer caption'} with {len(tags)} hashtags.")
    return caption, tags


# ------------------------------------------------------------------------------ the request


def suggest(db: Database, user: User, request: CaptionRequest, *, settings: CaptionSettings) -> CaptionSuggestions:
    try:
        targets = resolve(request.platforms)
    except UnknownPlatform as exc:
        raise InvalidInput(str(exc), code="unknown_platform") from None
    video = _video(db, user, request.video_id)
    material = dataclasses.replace(material_for(video, request, history.proven_tags(db, user.claims)),
                                   winning_styles=history.winning_styles(db, user.claims))
    local_tags = candidate_tags(material)
    if len(local_tags) < hashtags.MIN_TAGS:
        raise InvalidInput("Tell us a little more about this video (a sentence or two as its description, or a "
                           "brief) so we can suggest captions and hashtags.", code="tell_us_more")
    usage_id, used_today = _reserve(db, user, request, settings.captions_daily_limit)

    notes: list[str] = []
    drafts: list[Draft] | None = None
    source: Literal["gemini", "local"] = "local"
    prompt_tokens, output_tokens = None, None
    if settings.engine == "gemini":
        # google-genai takes most of this function's cold start: load it only when it answers.
        from shared.captions.gemini import GeminiFailed, GeminiWriter

        writer: GeminiWriter | None = None
        try:
            writer = GeminiWriter(settings)
            drafts = writer.write(material, targets)
            source = "gemini"
        except GeminiFailed as exc:
            log.warning("gemini gave no usable answer; the local writer answers", kind=exc.kind, detail=exc.detail)
            notes.append(exc.note)
        if writer is not None:
            prompt_tokens, output_tokens = writer.last_usage.prompt_tokens, writer.last_usage.output_tokens
    if drafts is None:
        drafts = LocalWriter().write(material, targets)
    _record(db, usage_id, source, prompt_tokens, output_tokens)

    fallback = spread_tags(local_tags, targets)
    by_key = {t.key: t for t in targets}
    return CaptionSuggestions(
        video_id=str(request.video_id),
        source=source,
        language=material.language,
        tone=material.tone,
        notes=notes,
        suggestions=[finish(d, by_key[d.platform], material, fallback[d.platform]) for d in drafts],
        daily_limit=settings.captions_daily_limit,
        used_today=used_today,
    )
