"""What each typed word matches, the same for the search, the alerts and the wanted posts:
the word and its synonyms (services/synonyms.py) as whole words or their Dutch and English
stems; in a title, as part of a longer word ("stoel" in "Douchestoelen"), when
PART_MIN_LENGTH characters or more; and every listing of a category whose Dutch or English name
holds the word ("rolstoel" finds the category "Rolstoelen en rollators" however its listings
are titled)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select

from ...extensions import db
from ...models import Category
from ...words import fold, folded_words, stems
from ..synonyms import alternatives
from .limits import PART_MIN_LENGTH

# A category name's word is matched by its stems or, from this many characters, by its start:
# "rolst" finds "Rolstoelen".
_CATEGORY_PREFIX_MIN_LENGTH = 4
# Words of category names that name nothing: "en" must not find "Rolstoelen en rollators".
_NAMING_NOTHING = frozenset({"and", "en", "for", "from", "met", "of", "the", "van", "voor",
                             "with", "zonder", "without", "other", "overig", "overige"})


@dataclass(frozen=True)
class WordTerms:
    """One typed word: `forms` (it and its synonyms, folded) as words or stems, `parts` (the
    forms long enough) as part of a title's word, and the categories it names."""

    forms: tuple[str, ...]
    parts: tuple[str, ...]
    category_ids: tuple[int, ...]

    @property
    def beyond_words(self) -> bool:
        """Whether it matches more than the full-text index's words and stems."""
        return bool(self.parts or self.category_ids)


def terms_of(words: list[str]) -> list[WordTerms]:
    """The terms of each of `words` (one query for the categories, one per word for synonyms)."""
    if not words:
        return []
    names = _category_names()
    terms = []
    for word in words:
        # As typed (accents and "ß" kept: PostgreSQL's stemmers and the title's trigrams see
        # them as written) and folded, then the synonyms.
        forms = tuple(dict.fromkeys([word.lower(), fold(word), *alternatives(word)]))
        long_enough = [form for form in forms if len(form) >= PART_MIN_LENGTH]
        # A part holding another finds nothing more ("rolstoel" finds all "rolstoelen" does).
        parts = tuple(form for form in long_enough if not any(
            other != form and other in form for other in long_enough))
        terms.append(WordTerms(forms, parts, _categories_named(forms, names)))
    return terms


@dataclass(frozen=True)
class _CategoryNames:
    words: dict[int, list[str]]  # category id: the folded words of both its names
    stems: dict[int, set[str]]  # category id: their stems
    children: dict[int, list[int]]


def _category_names() -> _CategoryNames:
    """Read every time (a few dozen rows: an admin's rename counts at once in every worker),
    folded and stemmed once per version of the names."""
    return _names_of(tuple(tuple(row) for row in db.session.execute(select(
        Category.id, Category.parent_id, Category.name_nl, Category.name_en))))


@lru_cache(maxsize=4)
def _names_of(rows: tuple[tuple[int, int | None, str, str], ...]) -> _CategoryNames:
    words: dict[int, list[str]] = {}
    name_stems: dict[int, set[str]] = {}
    children: dict[int, list[int]] = {}
    for category_id, parent_id, name_nl, name_en in rows:
        words[category_id] = [word for word in folded_words(f"{name_nl} {name_en}")
                              if word not in _NAMING_NOTHING]
        name_stems[category_id] = {stem for word in words[category_id] for stem in stems(word)}
        if parent_id is not None:
            children.setdefault(parent_id, []).append(category_id)
    return _CategoryNames(words, name_stems, children)


def _names(category_id: int, forms: tuple[str, ...], form_stems: set[str],
           names: _CategoryNames) -> bool:
    """Whether the category's name holds one of `forms`, by its stems or by the start."""
    return bool(names.stems[category_id] & form_stems) or any(
        name_word.startswith(form) for form in forms
        if len(form) >= _CATEGORY_PREFIX_MIN_LENGTH for name_word in names.words[category_id])


def _categories_named(forms: tuple[str, ...], names: _CategoryNames) -> tuple[int, ...]:
    """The categories (with everything below them) whose name holds one of `forms`."""
    form_stems = {stem for form in forms if " " not in form for stem in stems(form)}
    found: list[int] = []
    frontier = [category_id for category_id in names.words
                if _names(category_id, forms, form_stems, names)]
    while frontier:
        category_id = frontier.pop()
        if category_id not in found:
            found.append(category_id)
            frontier.extend(names.children.get(category_id, []))
    return tuple(sorted(found))
