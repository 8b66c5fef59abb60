"""Words of a text: tokens, stems, stopwords and a language guess, for any language YAKE knows.

Stopword lists come from the YAKE package (one file per language); stems from the
Snowball stemmers. Both ship inside their packages, so nothing is fetched at run time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)

# Language tag → Snowball stemmer name (the languages both libraries know).
_STEMMERS = {
    "en": "english", "de": "german", "es": "spanish", "fr": "french", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian", "fi": "finnish", "ru": "russian",
    "tr": "turkish", "ro": "romanian", "hu": "hungarian",
}
# Languages the guess chooses from: the ones with templates and stemmers.
GUESSABLE = ("en", "de", "es", "fr", "it", "pt", "nl")


def base_language(tag: str | None) -> str | None:
    """'pt-BR' → 'pt'."""
    return tag.split("-")[0].lower() if tag else None


@lru_cache(maxsize=64)
def stopwords(language: str) -> frozenset[str]:
    name = f"stopwords_{language}.txt"
    try:
        text = resources.files("yake").joinpath("core", "StopwordsList", name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        try:
            text = resources.files("yake").joinpath("core", "StopwordsList", "stopwords_noLang.txt").read_text(
                encoding="utf-8")
        except (FileNotFoundError, OSError):
            return frozenset()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def tokens(text: str) -> list[str]:
    return WORD.findall(text)


def fold(word: str) -> str:
    """Lower case without accents: 'Café' → 'cafe' (how people type hashtags)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=32)
def _stemmer(language: str) -> Any:
    """Snowball's stemmer (PyStemmer's C build when installed, else snowballstemmer's pure Python), or None."""
    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


@lru_cache(maxsize=65536)
def stem(word: str, language: str | None) -> str:
    """The Snowball stem of the folded word (pure Python: cached, the same words come back often)."""
    folded = fold(word)
    stemmer = _stemmer(language or "en")
    return stemmer.stemWord(folded) if stemmer else folded


def guess_language(text: str, default: str = "en") -> str:
    """The language whose stopwords the text uses most (ties and no evidence: `default`)."""
    words = [w.lower() for w in tokens(text)]
    if not words:
        return default
    scores = {lang: sum(1 for w in words if w in stopwords(lang)) for lang in GUESSABLE}
    best = max(scores, key=lambda lang: (scores[lang], lang == default))
    return best if scores[best] > 0 else default
