"""The local writer: deterministic, offline suggestions from the video's own words.

Keywords come from YAKE (an unsupervised keyword extractor working on one text, with
stopword lists for 30+ languages); they become the hashtags and the searchable start
of a YouTube title. Captions are the user's own first sentence, dressed per platform
from phrase templates (phrases.py) by tone. The same input always gives the same
answer; nothing goes over the network.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.captions import hashtags, words
from shared.captions.limits import PlatformTarget, shorten
from shared.captions.models import Draft, Material
from shared.captions.phrases import DEFAULT_EMOJI, EMOJI, PHRASES, Phrases

if TYPE_CHECKING:
    import yake

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
SHARED_TAGS = 2   # tags every platform gets; the rest differ per platform
SPECIFIC_LENGTH = 5
TITLE_JOIN = " – "
MIN_TITLE_TAIL = 30


class NotEnoughToGoOn(ValueError):
    """The video has too few words to suggest from."""


@lru_cache(maxsize=32)
def _extractor(language: str, ngrams: int) -> yake.KeywordExtractor:
    # Imported here (cold start): yake with numpy, networkx and segtok costs ~0.2 s and ~39 MB, paid when
    # the local writer first runs, not by every instance of the captions function at import.
    import yake

    lan = language if words.stopwords(language) else "en"
    return yake.KeywordExtractor(lan=lan, n=ngrams, top=24, dedup_lim=0.8)


@lru_cache(maxsize=256)
def keywords(text: str, language: str, ngrams: int = 2) -> tuple[str, ...]:
    """Key phrases of `text`, best first (YAKE: a lower score is more relevant). Cached: one request asks twice."""
    if not text.strip():
        return ()
    found = _extractor(language, ngrams).extract_keywords(text)
    return tuple(phrase for phrase, _score in sorted(found, key=lambda item: item[1]))


def _pick(options: tuple[str, ...], seed: str) -> str:
    """The same choice for the same text, varied across texts."""
    digest = hashlib.sha256(seed.encode()).digest()
    return options[digest[0] % len(options)]


def first_sentence(value: str) -> str:
    value = " ".join(value.split())
    return SENTENCE_END.split(value, maxsplit=1)[0].strip()


def _capitalize(value: str) -> str:
    return value[:1].upper() + value[1:] if value else value


def _as_sentence(value: str) -> str:
    value = _capitalize(value.strip())
    return value if not value or value[-1] in ".!?…" else value + "."


def _sentence_openers(text: str) -> set[str]:
    """Words capitalised only because they open a sentence ('Meet', 'Our'): YAKE takes them for names."""
    counts: dict[str, int] = {}
    for token in words.tokens(text):
        counts[token.lower()] = counts.get(token.lower(), 0) + 1
    openers = set()
    for sentence in SENTENCE_END.split(" ".join(text.split())):
        first = words.tokens(sentence)[:1]
        if first and counts.get(first[0].lower(), 0) == 1:
            openers.add(first[0].lower())
    return openers


def candidate_tags(material: Material) -> list[str]:
    """Hashtag candidates, best first: campaign and brand, then the text's key words.

    Single key words and the text's own compounds ('Yoga-Kurse' → #yogakurse); two
    separate words are not joined, since without knowing which words are nouns that
    makes tags like #baristaspour.
    """
    language = material.language
    source = material.source_text()
    openers = _sentence_openers(source)
    ranked: list[str] = []
    for special in (material.campaign, material.brand):
        if special:
            ranked.append(hashtags.clean(special).lower())
    # The brand is one tag (#maplethread); its words alone (#maple, #thread) say nothing.
    brand_words = {words.fold(w) for w in words.tokens(material.brand or "")}
    singles = [word for word in keywords(source, language, ngrams=1)
               if word.lower() not in openers and words.fold(word) not in brand_words]
    # Longer words say more about a video than short ones (#croissants over #shop), and in German the
    # capitalised words are the nouns (#Bohnen over #perfekten); YAKE's order otherwise.
    singles.sort(key=lambda word: (language == "de" and not word[:1].isupper(), len(word) < SPECIFIC_LENGTH))
    ranked.extend(hashtags.clean(word).lower() for word in singles)
    stop = words.stopwords(language)
    rest = [t for t in words.tokens(source) if len(t) >= 4 and t.lower() not in stop
            and t.lower() not in openers and words.fold(t) not in brand_words]
    rest.sort(key=lambda word: language == "de" and not word[:1].isupper())
    ranked.extend(t.lower() for t in rest)
    kept: list[str] = []
    stems: set[str] = set()
    for tag in ranked:
        if not hashtags.valid(tag) or len(tag) < 3:
            continue
        key = words.stem(tag, language)
        if key in stems:
            continue
        stems.add(key)
        kept.append(tag)
    return kept


def spread_tags(candidates: list[str], targets: list[PlatformTarget]) -> dict[str, list[str]]:
    """Each platform's tags: the best few everywhere, the others spread so platforms differ."""
    shared, rest = candidates[:SHARED_TAGS], candidates[SHARED_TAGS:]
    chosen: dict[str, list[str]] = {}
    position = 0
    for target in targets:
        tags = list(shared)
        want = target.register.hashtag_count
        tried = 0
        while len(tags) < want and rest and tried < len(rest):
            tag = rest[position % len(rest)]
            position += 1
            tried += 1
            if tag not in tags:
                tags.append(tag)
        chosen[target.key] = tags[:want]
    return chosen


def _headline(material: Material) -> str:
    """A short searchable phrase: the best two-word key phrase that reads as a noun phrase, else the best word."""
    source = material.source_text()
    openers = _sentence_openers(source)
    for phrase in keywords(source, material.language, ngrams=2)[:6]:
        parts = phrase.split()
        if len(parts) < 2 or any(p.lower() in openers for p in parts):
            continue
        if material.language == "de" and not all(p[:1].isupper() for p in parts):
            continue  # German nouns are capitalised; "Berlin bietet" is not a headline
        return " ".join(_capitalize(p) for p in parts) if material.language == "en" else _capitalize(phrase)
    singles = [w for w in keywords(source, material.language, ngrams=1) if w.lower() not in openers]
    return _capitalize(singles[0]) if singles else ""


def _emoji(material: Material) -> str:
    folded = words.fold(material.source_text())
    for stems, emoji in EMOJI:
        if any(re.search(rf"\b{re.escape(s)}", folded) for s in stems):
            return emoji
    return DEFAULT_EMOJI


class LocalWriter:
    name = "local"

    def write(self, material: Material, targets: list[PlatformTarget]) -> list[Draft]:
        candidates = candidate_tags(material)
        if len(candidates) < hashtags.MIN_TAGS:
            raise NotEnoughToGoOn(
                "Tell us a little more about this video (a sentence or two in the description or brief) so we "
                "can suggest captions and hashtags.")
        tags = spread_tags(candidates, targets)
        headline = _headline(material)
        return [self._draft(material, target, tags[target.key], headline) for target in targets]

    def _draft(self, material: Material, target: PlatformTarget, tags: list[str], headline: str) -> Draft:
        subject = _as_sentence(first_sentence(
            material.description or material.brief or material.prompt or material.filename_words or ""))
        offer = _as_sentence(first_sentence(material.brief)) if material.brief and material.description else ""
        said = PHRASES.get(material.language)
        seed = subject + target.network
        register = target.register
        if register.voice == "hook":
            caption = self._hook(material, subject, offer, said, seed)
        elif register.voice == "visual":
            caption = self._visual(material, subject, offer, said, seed, headline)
        elif register.voice == "description":
            caption = self._description(material, subject, offer, said)
        else:
            caption = self._conversational(material, subject, offer, said, seed)
        caption = shorten(caption, register.caption_budget, "chars")
        title = (self._searchable_title(material, subject, headline, register.title_budget)
                 if register.wants_title else None)
        return Draft(platform=target.key, caption=caption, hashtags=tags, title=title)

    def _hook(self, material: Material, subject: str, offer: str, said: Phrases | None, seed: str) -> str:
        hook = _pick(said.hooks[material.tone], seed) if said else "👀"
        body = " ".join(p for p in (subject, offer) if p)
        return f"{hook} {body}".strip()

    def _visual(self, material: Material, subject: str, offer: str, said: Phrases | None, seed: str,
                   headline: str) -> str:
        lines = [f"{_emoji(material)} {headline}".strip()]
        lines.append(subject)
        if offer:
            lines.append(f"👉 {offer}" if material.tone != "professional" else offer)
        if said:
            lines.append(_pick(said.save[material.tone], seed))
        return "\n\n".join(line for line in lines if line)

    def _description(self, material: Material, subject: str, offer: str, said: Phrases | None) -> str:
        parts = [subject]
        if offer:
            parts.append(offer)
        if material.brand and words.fold(material.brand) not in words.fold(subject):
            parts.append(material.brand)
        if said:
            parts.append(said.subscribe[material.tone])
        return "\n\n".join(parts)

    def _searchable_title(self, material: Material, subject: str, headline: str, budget: int) -> str:
        """Keywords first (what people search for), then the brand, then as much of the sentence as fits."""
        lead = " | ".join(p for p in (headline, material.brand) if p)
        sentence = subject.rstrip(".")
        if not lead:
            return shorten(sentence, budget, "chars")
        room = budget - len(lead) - len(TITLE_JOIN)
        if len(sentence) <= room:
            return f"{lead}{TITLE_JOIN}{sentence}"
        if room < MIN_TITLE_TAIL:  # a few cut-off words read worse than none
            return shorten(lead, budget, "chars")
        return f"{lead}{TITLE_JOIN}{shorten(sentence, room, 'chars')}"

    def _conversational(self, material: Material, subject: str, offer: str, said: Phrases | None, seed: str) -> str:
        question = _pick(said.ask[material.tone], seed) if said else ""
        return " ".join(p for p in (subject, offer, question) if p)
