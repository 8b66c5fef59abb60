"""What makes a suggested hashtag acceptable, and whether it relates to the video.

A hashtag is one word (letters and digits, no spaces or punctuation), 2 to 30
characters, with at least one letter, and not a spam tag. No platform publishes a
list of banned tags, so this is our own rule: follow/like-for-like tags, reach bait
that says nothing about the video (#fyp, #viral) and the platforms' own names are
never suggested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from shared.captions import words
from shared.platforms.registry import registry

MIN_TAGS, MAX_TAGS = 3, 5
MAX_TAG_CHARS = 30
_TAG = re.compile(r"^[^\W_][\w]*$", re.UNICODE)

BLOCKED = frozenset({
    # follow / like for like
    "follow4follow", "followforfollow", "f4f", "like4like", "likeforlike", "l4l", "followme", "followback",
    "followforfollowback", "likes4likes", "tagsforlikes", "instalike", "instalikes", "likeback", "comment4comment",
    "spam", "spam4spam", "followers", "follow", "like", "likes", "followtrain", "gainpost", "gainfollowers",
    # reach bait that says nothing about the video
    "fyp", "foryou", "foryoupage", "fypage", "fy", "viral", "viralvideo", "trending", "explore", "explorepage",
    "xyzbca", "blowthisup", "goviral", "instagood", "photooftheday", "reels", "reel", "shorts",
    "video", "new", "post",
})


def network_names() -> frozenset[str]:
    """The names of the networks we publish to, as tags ("tiktok", "youtube"): they say nothing about the video.

    The name of the network a platform publishes on (Blotato's posts are TikTok's), from the registry.
    """
    names = set()
    for platform in registry():
        home = registry().get(platform.network) or platform
        names.add(words.fold(home.name).replace(" ", ""))
    return frozenset(names)


def clean(raw: str) -> str:
    """'#Latte Art!' → 'LatteArt': one word, no '#', no punctuation."""
    return "".join(words.tokens(raw.replace("#", " "))).replace("'", "").replace("’", "").replace("-", "")


def problem(tag: str) -> str | None:
    """Why `tag` (without '#') can't be suggested; None when it is fine."""
    if not _TAG.match(tag):
        return "is not a single word"
    if not 2 <= len(tag) <= MAX_TAG_CHARS:
        return f"must have 2 to {MAX_TAG_CHARS} characters"
    if not any(c.isalpha() for c in tag):
        return "has no letters"
    folded = words.fold(tag)
    if folded in BLOCKED or folded in network_names():
        return "is a spam or reach-bait tag"
    return None


def valid(tag: str) -> bool:
    return problem(tag) is None


def dedupe(tags: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for tag in tags:
        key = words.fold(tag)
        if key not in seen:
            seen.add(key)
            kept.append(tag)
    return kept


@lru_cache(maxsize=256)
def source_keys(text: str, language: str | None) -> frozenset[str]:
    """Everything a related tag may be: each word, its stem, and 2-3 adjacent words joined."""
    toks = [words.fold(t).replace("'", "").replace("’", "").replace("-", "") for t in words.tokens(text)]
    keys: set[str] = set()
    for i, tok in enumerate(toks):
        keys.add(tok)
        keys.add(words.stem(tok, language))
        for n in (2, 3):
            if i + n <= len(toks):
                joined = "".join(toks[i:i + n])
                keys.add(joined)
                keys.add(words.stem(joined, language))
    keys.discard("")
    return frozenset(keys)


def relates(tag: str, keys: frozenset[str], language: str | None) -> bool:
    """The tag, or its stem, is a word (or a few adjacent words) of the source text."""
    folded = words.fold(tag)
    return folded in keys or words.stem(folded, language) in keys
