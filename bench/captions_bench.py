"""Caption suggestions on the evaluation set (tests/captions/evaluation_set.json), per writer.

    .venv/bin/python -m bench captions_bench

30 short video descriptions across kinds of business in English, German, Spanish and
French, each asked for TikTok, Instagram, YouTube and Facebook. Every answer goes
through the same re-checking as POST /captions (shared.captions.service.finish).

- local: the offline writer, all four tones (120 answers).
- gemini (stand-in): the Gemini writer through the real google-genai SDK over HTTP to
  the sandbox's stand-in (sandbox/gemini.py) on this machine. The stand-in writes
  naively on purpose, so its figures show what our re-checking guarantees whatever the
  model writes; they say nothing about Gemini's own writing, which needs a real key.

Related hashtag: the tag, or its Snowball stem, is a word (or 2-3 adjacent words
joined) of the description, brief or campaign. Brand tags count only where the brand's
name is in those texts; a second figure also counts brand and prompt.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.captions import hashtags
from shared.captions.limits import PlatformTarget, resolve
from shared.captions.local import LocalWriter, candidate_tags, spread_tags
from shared.captions.models import Material
from shared.captions.service import finish
from shared.publishing import text
from shared.responses import PlatformSuggestion

CASES = json.loads((Path(__file__).resolve().parent.parent / "tests/captions/evaluation_set.json").read_text())
PLATFORMS = ["tiktok", "instagram", "youtube", "facebook"]
TONES = ("friendly", "professional", "playful", "bold")
LOCAL_P95_GOAL_MS = 50.0
RELATED_GOAL = 0.90


def _material(case: dict[str, Any], tone: str) -> Material:
    return Material(description=case.get("description"), prompt=case.get("prompt"), brand=case.get("brand"),
                    brief=case.get("brief"), campaign=case.get("campaign"), language=case["language"],
                    tone=tone)  # type: ignore[arg-type]


def _within_limits(item: PlatformSuggestion, target: PlatformTarget) -> bool:
    found = text.problems(item.text, target.caption_rule, "caption", "")
    if target.title_rule is not None:
        found += text.problems(item.title or "", target.title_rule, "title", "")
    return not found


def _tags_ok(tags: list[str]) -> bool:
    return (hashtags.MIN_TAGS <= len(tags) <= hashtags.MAX_TAGS and all(hashtags.valid(t) for t in tags)
            and len({t.lower() for t in tags}) == len(tags))


class Tally:
    def __init__(self) -> None:
        self.answers = self.answers_within = 0
        self.suggestions = self.suggestions_tags_ok = 0
        self.tags = self.related = self.related_broad = 0
        self.duplicates: list[int] = []
        self.latencies_ms: list[float] = []
        self.fallbacks = 0

    def add(self, case: dict[str, Any], items: list[PlatformSuggestion], targets: list[PlatformTarget],
            elapsed_ms: float) -> None:
        language = case["language"]
        strict = hashtags.source_keys(" ".join(case.get(k) or "" for k in ("description", "brief", "campaign")),
                                      language)
        broad = strict | hashtags.source_keys(" ".join(case.get(k) or "" for k in ("brand", "prompt")), language)
        self.answers += 1
        self.answers_within += all(_within_limits(i, t) for i, t in zip(items, targets, strict=True))
        seen: dict[str, int] = {}
        for item in items:
            self.suggestions += 1
            self.suggestions_tags_ok += _tags_ok(item.hashtags)
            for tag in item.hashtags:
                self.tags += 1
                self.related += hashtags.relates(tag, strict, language)
                self.related_broad += hashtags.relates(tag, broad, language)
                seen[tag.lower()] = seen.get(tag.lower(), 0) + 1
        self.duplicates.append(sum(1 for n in seen.values() if n > 1))
        self.latencies_ms.append(elapsed_ms)

    def row(self, name: str) -> str:
        lat = sorted(self.latencies_ms)
        p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)]
        return (f"| {name} | {self.answers} | {self.answers_within / self.answers:.0%} | "
                f"{self.suggestions_tags_ok / self.suggestions:.0%} | {self.related / self.tags:.1%} | "
                f"{self.related_broad / self.tags:.1%} | {statistics.mean(self.duplicates):.2f} | "
                f"{statistics.median(lat):.1f} | {p95:.1f} | {self.fallbacks} |")


def _cold_caches() -> None:
    """Each answer measured as if its text and words were new (the writer caches stems and source words)."""
    from shared.captions import local, words

    hashtags.source_keys.cache_clear()
    words.stem.cache_clear()
    local.keywords.cache_clear()


def _run_local(targets: list[PlatformTarget]) -> Tally:
    tally = Tally()
    writer = LocalWriter()
    for case in CASES:  # warm-up: YAKE's extractors and the stemmers are built once per language
        writer.write(_material(case, "friendly"), targets)
    for tone in TONES:
        for case in CASES:
            _cold_caches()
            started = time.perf_counter()
            m = _material(case, tone)
            fallback = spread_tags(candidate_tags(m), targets)
            by_key = {t.key: t for t in targets}
            items = [finish(d, by_key[d.platform], m, fallback[d.platform]) for d in writer.write(m, targets)]
            tally.add(case, items, targets, (time.perf_counter() - started) * 1000)
    return tally


def _run_gemini_stand_in(targets: list[PlatformTarget]) -> Tally:
    from sandbox import server
    from shared.captions.gemini import GeminiFailed, GeminiWriter
    from shared.captions.settings import CaptionSettings

    running = server.start()
    try:
        key = running.sandbox.mint_token("gemini", "bench", ttl=3600).value
        settings = CaptionSettings(captions_engine="gemini", gemini_api_key=key,  # type: ignore[arg-type]
                                   gemini_base_url=f"{running.url}/gemini", gemini_timeout_seconds=10)
        writer = GeminiWriter(settings)
        local = LocalWriter()
        tally = Tally()
        for case in CASES:
            started = time.perf_counter()
            m = _material(case, "friendly")
            fallback = spread_tags(candidate_tags(m), targets)
            try:
                drafts = writer.write(m, targets)
            except GeminiFailed:
                tally.fallbacks += 1
                drafts = local.write(m, targets)
            by_key = {t.key: t for t in targets}
            items = [finish(d, by_key[d.platform], m, fallback[d.platform]) for d in drafts]
            tally.add(case, items, targets, (time.perf_counter() - started) * 1000)
        return tally
    finally:
        running.stop()


def run() -> str:
    targets = resolve(PLATFORMS)
    local = _run_local(targets)
    gemini = _run_gemini_stand_in(targets)
    lat = sorted(local.latencies_ms)
    p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)]
    related = local.related / local.tags
    languages = sorted({c["language"] for c in CASES})
    load = os.getloadavg()[0]
    return "\n".join([
        "## Caption suggestions on the evaluation set (`bench/captions_bench.py`)",
        "",
        "Command: `make bench` (or `.venv/bin/python -m bench captions_bench`). "
        f"{len(CASES)} video descriptions ({', '.join(languages)}), each for {', '.join(PLATFORMS)}; every answer "
        "re-checked as POST /captions does. Local: all four tones. Gemini: the real SDK over HTTP to the "
        "sandbox's stand-in, which writes naively on purpose (its figures show what the re-checking guarantees, "
        "not Gemini's own quality). Latency is per answer (all four platforms), writer and re-checking, "
        "in this process.",
        "",
        f"Machine: {os.cpu_count()} CPU(s), load average {load:.1f} at the end, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| writer | answers | within every limit | 3-5 valid hashtags | hashtags related (description, brief, "
        "campaign) | related incl. brand and prompt | tags on 2+ platforms per answer | p50 ms | p95 ms | "
        "fell back |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        local.row("local"),
        gemini.row("gemini (stand-in)"),
        "",
        f"Goals (local writer): within every limit 100%: **{local.answers_within / local.answers:.0%}**; "
        f"3-5 valid hashtags 100%: **{local.suggestions_tags_ok / local.suggestions:.0%}**; related hashtags "
        f">= {RELATED_GOAL:.0%}: **{related:.1%}** ({'met' if related >= RELATED_GOAL else 'not met'}); "
        f"p95 < {LOCAL_P95_GOAL_MS:.0f} ms: **{p95:.1f} ms** ({'met' if p95 < LOCAL_P95_GOAL_MS else 'not met'}).",
    ])


if __name__ == "__main__":
    print(run())
