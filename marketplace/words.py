"""Words as the platform compares them, with no database in sight (models use this too).

One fold for every comparison of words made in Python: case folded (`str.casefold`, so "ß"
matches "ss"), accents removed (NFKD without the combining marks), white space collapsed.

Stems: the Snowball stemmers for Dutch and English (snowballstemmer, which uses PyStemmer's C
build when it is installed). PostgreSQL stems with its own `dutch` and `english` configurations,
the same Snowball algorithms; these serve SQLite's index, the synonyms and the categories' names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Letters and digits; a hyphen or any other mark separates words, so "hoog-laagbedden" is
# "hoog" and "laagbedden", as FTS5's unicode61 tokenizer splits it.
_WORD = re.compile(r"[^\W_]+")
_STEMMERS = (snowballstemmer.stemmer("dutch"), snowballstemmer.stemmer("english"))


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def fold_character(character: str) -> str:
    """One character folded; it may become several ("ß" → "ss") or none (a combining mark)."""
    # Marks off before and after case folding: casefold can produce letters with marks ("İ")
    # and turns a lone mark into a letter (U+0345, the iota subscript), which must stay an accent.
    return _without_marks(_without_marks(character).casefold())


def fold(text: str) -> str:
    """`text` with case and accents ignored and white space collapsed to single spaces."""
    if text.isascii():  # most text, 50 times faster: nothing to decompose, casefold is lower
        return " ".join(text.lower().split())
    return " ".join("".join(fold_character(character) for character in text).split())


def folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text (spaces kept as they are) and, per folded character, its index in `text`
    (to mark what matched in the original)."""
    folded: list[str] = []
    positions: list[int] = []
    for index, character in enumerate(text):
        for part in fold_character(character):
            folded.append(part)
            positions.append(index)
    return "".join(folded), positions


def folded_words(text: str) -> list[str]:
    """The folded words of `text`, split on anything that is not a letter or digit."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=65_536)  # a vocabulary's worth, bounded
def _stems_of_folded(word: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(stemmer.stemWord(word) for stemmer in _STEMMERS))


def stems(word: str) -> tuple[str, ...]:
    """The Dutch and the English stem of one word (folded first), without repeats."""
    return _stems_of_folded(fold(word))


def stems_of_text(text: str) -> str:
    """Every word of `text` by its stems, each stem once, space separated: what SQLite's index
    holds beside the words themselves."""
    seen: dict[str, None] = {}
    for word in folded_words(text):
        for stem in _stems_of_folded(word):
            seen.setdefault(stem)
    return " ".join(seen)
