"""Synonyms platform admins keep (handschoenen = gloves): search and alerts alike match a word's
synonyms as the word itself.

A group is a few words or short phrases meaning the same, in Dutch and English, stored folded
(`words.fold`) with their Dutch and English stems, so that a word matches a group by itself or
by its stems ("handschoen" and "gloves" both find the group "handschoenen, gloves"). A word
belongs to one group at most: two groups sharing it would silently be one.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import DEFAULT_SYNONYM_GROUPS, SynonymGroup, SynonymWord, User
from ..models.synonym import SYNONYM_WORD_LENGTH
from ..security import Action, require
from ..unit_of_work import atomic, savepoint
from ..words import fold, stems
from . import audit
from .errors import DomainError

MAX_WORDS = 20
WORD_FIELD = "words"
# What separates the words an admin types: commas, semicolons or new lines.
_SEPARATOR = re.compile(r"[,;\n\r]+")
# Plain SQL, made once: it runs for every word searched, and building the ORM statement with
# its aliases took ten times what the query does (0.3 ms).
_ALTERNATIVES = text(
    "SELECT other.word FROM synonym_word AS member "
    "JOIN synonym_word AS other ON other.group_id = member.group_id "
    "WHERE member.word IN :keys OR member.dutch_stem IN :keys OR member.english_stem IN :keys "
    "ORDER BY other.group_id, other.position").bindparams(bindparam("keys", expanding=True))


def alternatives(word: str) -> list[str]:
    """The other words of every synonym group `word` belongs to (folded; matched on the
    folded word or its stems), not `word` itself; [] when it has none. One query."""
    folded = fold(word)
    if not folded:
        return []
    keys = sorted({folded, *stems(folded)})
    found = db.session.scalars(_ALTERNATIVES, {"keys": keys}).all()
    return [alternative for alternative in dict.fromkeys(found) if alternative != folded]


def all_groups() -> list[SynonymGroup]:
    """Every group, alphabetically by its first word."""
    groups = db.session.scalars(select(SynonymGroup).options(selectinload(SynonymGroup.words)))
    return sorted(groups, key=lambda group: group.text)


def parse_words(text: str) -> list[str]:
    """The folded words of what an admin typed, in order; raises DomainError(field="words") when
    there are fewer than two, more than MAX_WORDS, a word is too long or has other characters
    than letters, digits, spaces and hyphens, or a word is there twice."""
    words = [fold(part) for part in _SEPARATOR.split(text or "")]
    words = [word for word in words if word]
    if len(words) < 2:
        raise DomainError(_("Enter at least two words that mean the same, separated by commas."),
                          field=WORD_FIELD)
    if len(words) > MAX_WORDS:
        raise DomainError(_("A group holds at most %(max)d words.", max=MAX_WORDS),
                          field=WORD_FIELD)
    for word in words:
        if len(word) > SYNONYM_WORD_LENGTH:
            raise DomainError(_("“%(word)s…” is too long: a word or phrase has at most "
                                "%(max)d characters.", word=word[:20], max=SYNONYM_WORD_LENGTH),
                              field=WORD_FIELD)
        if not all(character.isalnum() or character in " -" for character in word) \
                or not any(character.isalnum() for character in word):
            raise DomainError(_("Use letters, digits, spaces and hyphens only, with a comma "
                                "between the words."), field=WORD_FIELD)
    twice = next((word for index, word in enumerate(words) if word in words[:index]), None)
    if twice is not None:
        raise DomainError(_("“%(word)s” is in the list twice.", word=twice), field=WORD_FIELD)
    return words


def _stem(word: str, language: int) -> str:
    """A phrase's stem in one language (0 Dutch, 1 English): each of its words stemmed."""
    return " ".join(_stems_in_both(part)[language] for part in word.split())


def _stems_in_both(word: str) -> tuple[str, str]:
    found = stems(word)
    return found[0], found[-1]  # stems() leaves out a repeat: then both are the same


def _check_not_elsewhere(words: list[str], group: SynonymGroup | None) -> None:
    statement = select(SynonymWord.word).where(SynonymWord.word.in_(words))
    if group is not None and group.id is not None:
        statement = statement.where(SynonymWord.group_id != group.id)
    taken = db.session.scalars(statement.limit(1)).first()
    if taken is not None:
        raise DomainError(_("“%(word)s” is in another group already: add the words there, or "
                            "take it out of that group first.", word=taken), field=WORD_FIELD)


def _set_words(group: SynonymGroup, words: list[str]) -> None:
    """The group's words become `words`; rows of words it keeps stay (the unique word column
    would refuse a new row inserted before the old one is deleted)."""
    kept = {row.word: row for row in group.words}
    for row in list(group.words):
        if row.word not in words:
            group.words.remove(row)
    db.session.flush()
    rows = []
    for position, word in enumerate(words):
        row = kept.get(word) or SynonymWord(word=word, dutch_stem=_stem(word, 0),
                                            english_stem=_stem(word, 1))
        row.position = position
        rows.append(row)
    group.words = rows
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:  # the same word added by another admin a moment ago
        raise DomainError(_("One of these words is in another group already."),
                          field=WORD_FIELD) from error


@atomic
def add_group(actor: User, text: str) -> SynonymGroup:
    """A new group of the words in `text` (see parse_words for what raises DomainError)."""
    require(actor, Action.ADMINISTER_PLATFORM)
    words = parse_words(text)
    _check_not_elsewhere(words, None)
    group = SynonymGroup()
    db.session.add(group)
    _set_words(group, words)
    audit.record(actor, "synonym_group.add", group, label=group.text)
    return group


@atomic
def update_group(actor: User, group: SynonymGroup, text: str) -> None:
    """The group's words become those of `text`; the log shows them before and after."""
    require(actor, Action.ADMINISTER_PLATFORM)
    words = parse_words(text)
    _check_not_elsewhere(words, group)
    before = group.text
    _set_words(group, words)
    if group.text != before:
        audit.record(actor, "synonym_group.update", group, label=f"{before} → {group.text}")


@atomic
def delete_group(actor: User, group: SynonymGroup) -> None:
    require(actor, Action.ADMINISTER_PLATFORM)
    audit.record(actor, "synonym_group.delete", group, label=group.text)
    db.session.delete(group)


def ensure_default_groups() -> None:
    """The seeded groups, when there are none (tests: migration 0018 seeds real databases)."""
    if db.session.scalar(select(SynonymWord.id).limit(1)) is not None:
        return
    for words in DEFAULT_SYNONYM_GROUPS:
        group = SynonymGroup()
        group.words = [SynonymWord(word=word, dutch_stem=_stem(word, 0),
                                   english_stem=_stem(word, 1), position=position)
                       for position, word in enumerate(words)]
        db.session.add(group)
