"""Matching words and categories: what alerts, wanted posts and watch-words share.

One fold for every comparison of words made in Python: case folded (`str.casefold`, so "ß"
matches "ss"), accents removed (NFKD without the combining marks), white space collapsed. The
search itself folds in the database (FTS5's remove_diacritics, PostgreSQL's unaccent) and does
not use this module.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from ..extensions import db
from ..models import Category

_WORD = re.compile(r"\w+")


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


def text_tokens(text: str) -> list[str]:
    """The folded words of `text`."""
    return _WORD.findall(fold(text))


def words_match(words: list[str], tokens: list[str]) -> bool:
    """Whether every one of `words` starts one of `tokens` (both folded)."""
    return all(any(token.startswith(word) for token in tokens) for word in words)


def category_and_ancestors(category_id: int) -> list[int]:
    """The category and every category above it: an alert or a wanted post on a parent
    category matches listings in its children."""
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    chain: list[int] = []
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
