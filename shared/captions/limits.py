"""Each platform's register and limits for suggestions, from the adapters' own declarations.

The hard limits (length, unit, hashtag count, forbidden characters) are the adapters'
`TextRule`s and are counted with shared/publishing/text.py, exactly as publishing
checks them. The register (how long a caption *should* be, how many hashtags) is our
own style choice and always sits inside those limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.platforms.base import PlatformAdapter, TextRule, caption_with_hashtags
from shared.platforms.platform import CaptionRegister
from shared.platforms.registry import registry
from shared.publishing import text

ELLIPSIS = "…"
_LAST_GAP = re.compile(r"\s+\S*$")


# A platform's register is its descriptor's `caption_register` (shared/platforms/<key>/caption_register.py).
Register = CaptionRegister


class UnknownPlatform(ValueError):
    pass


@dataclass(frozen=True)
class PlatformTarget:
    """A platform the user asked for (an adapter key; Blotato's posts to TikTok, in TikTok's register)."""

    key: str
    adapter: type[PlatformAdapter]
    register: Register

    @property
    def network(self) -> str:
        return self.adapter.network

    @property
    def display_name(self) -> str:
        return self.adapter.display_name

    @property
    def caption_rule(self) -> TextRule:
        return self.adapter.limits.caption

    @property
    def title_rule(self) -> TextRule | None:
        return self.adapter.limits.title if self.register.wants_title else None


def known_platforms() -> list[str]:
    return sorted(platform.key for platform in registry() if platform.caption_register is not None)


def resolve(names: list[str]) -> list[PlatformTarget]:
    targets = []
    for name in names:
        key = name.strip().lower()
        platform = registry().get(key)
        if platform is None or platform.caption_register is None:
            raise UnknownPlatform(f"We can't write captions for '{name}'. Choose from: {', '.join(known_platforms())}.")
        targets.append(PlatformTarget(key, platform.adapter, platform.caption_register))
    return targets


def strip_forbidden(value: str, rule: TextRule) -> str:
    return "".join(c for c in value if c not in rule.forbidden_chars)


def shorten(value: str, max_length: int, unit: str) -> str:
    """`value` cut at a word boundary, with an ellipsis, so it measures at most `max_length` in `unit`."""
    if text.measure(value, unit) <= max_length:
        return value
    cut = value[:max_length]  # a character is at least one unit in every unit we count
    while cut and text.measure(cut.rstrip() + ELLIPSIS, unit) > max_length:
        shorter = _LAST_GAP.sub("", cut)
        cut = shorter if shorter and shorter != cut else cut[:-1]
    return cut.rstrip(" \n\t,;:-–—") + ELLIPSIS


def fit(caption: str, hashtags: list[str], rule: TextRule) -> tuple[str, list[str], bool]:
    """Caption and hashtags that fit `rule` as posted (caption, then the tags); True when something was cut."""
    caption = strip_forbidden(caption, rule)
    tags = list(hashtags)
    changed = False
    if rule.max_hashtags is not None:
        room = max(0, rule.max_hashtags - len(text.HASHTAG.findall(caption)))
        if len(tags) > room:
            tags, changed = tags[:room], True
    posted = caption_with_hashtags(caption, tags)
    over = text.measure(posted, rule.unit) - rule.max_length
    if over > 0:
        budget = text.measure(caption, rule.unit) - over
        caption, changed = shorten(caption, max(0, budget), rule.unit), True
    return caption, tags, changed


def count(value: str, rule: TextRule, field: str) -> dict[str, object]:
    """How the platform counts `value`: length in its unit, the limit, and what is wrong (plain words)."""
    return {
        "field": field,
        "length": text.measure(value, rule.unit),
        "max_length": rule.max_length,
        "unit": rule.unit,
        "fits": not text.problems(value, rule, field, ""),
    }
