"""Counting captions the way each platform counts them."""

from __future__ import annotations

import re

from shared.platforms.base import TextRule

HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([\w.]+)", re.UNICODE)


def measure(text: str, unit: str) -> int:
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    if unit == "bytes":
        return len(text.encode("utf-8"))
    return len(text)


_UNIT_WORDS = {"chars": "characters", "utf16": "characters", "bytes": "bytes"}


def issues(text: str, rule: TextRule, what: str, platform: str) -> list[tuple[str, str]]:
    """(code, plain-language message) for each way `text` breaks `rule`; empty when it fits."""
    found = []
    if rule.required and not text.strip():
        found.append((f"{what}_required", f"{platform} needs a {what}."))
    length = measure(text, rule.unit)
    if length > rule.max_length:
        found.append((f"{what}_too_long",
            f"{platform} allows {rule.max_length} {_UNIT_WORDS[rule.unit]} in the {what}; "
            f"this one has {length}. Please shorten it by {length - rule.max_length}."
        ))
    if rule.max_hashtags is not None and len(HASHTAG.findall(text)) > rule.max_hashtags:
        found.append(("too_many_hashtags",
                      f"{platform} allows {rule.max_hashtags} hashtags; this {what} has {len(HASHTAG.findall(text))}."))
    if rule.max_mentions is not None and len(MENTION.findall(text)) > rule.max_mentions:
        mentions = len(MENTION.findall(text))
        found.append(("too_many_mentions",
                      f"{platform} allows {rule.max_mentions} @mentions; this {what} has {mentions}."))
    bad = sorted({c for c in text if c in rule.forbidden_chars})
    if bad:
        found.append(("forbidden_characters",
                      f"{platform} does not accept {' or '.join(repr(c) for c in bad)} in the {what}."))
    return found


def problems(text: str, rule: TextRule, what: str, platform: str) -> list[str]:
    """Plain-language problems of `text` under `rule`, empty when it fits."""
    return [message for _, message in issues(text, rule, what, platform)]
