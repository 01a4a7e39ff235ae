"""Watch-words: words and phrases that make a submitted listing wait for review.

A listing whose text contains one (whole word or phrase, case and accents ignored, folded as
`words.fold`) waits for review even when its organisation is trusted; the words
found are kept in `Listing.held_words` and highlighted for the moderator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Listing, User, WatchWord, WatchWordKind
from ..security import Action, require
from ..unit_of_work import atomic, savepoint
from ..words import fold, folded_with_positions
from . import audit
from .errors import DomainError

MAX_WORD_LENGTH = 60
HELD_WORDS_LENGTH = 255  # the column's size


@lru_cache(maxsize=1024)
def _pattern(word: str) -> re.Pattern[str]:
    # Whole words only: "pil" must not match "pillow"; a phrase's space matches any spacing.
    # Folded again: a word stored by an older fold (lower() kept "ß") still matches.
    body = r"\s+".join(re.escape(part) for part in fold(word).split())
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _spans(text: str, words: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, word) in `text` for each match of a folded word."""
    folded, positions = folded_with_positions(text)
    spans = []
    for word in words:
        for match in _pattern(word).finditer(folded):
            spans.append((positions[match.start()], positions[match.end() - 1] + 1, word))
    return spans


def find_watch_words(*texts: str | None) -> list[str]:
    """The stored watch-words found in any of `texts`, each once, alphabetically."""
    words = db.session.scalars(select(WatchWord.word)).all()
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(word for _start, _end, word in _spans(text, words))
    return sorted(found)


def held_words_value(words: list[str]) -> str | None:
    """`words` as stored in Listing.held_words (comma-separated, fitting the column)."""
    kept: list[str] = []
    for word in words:
        if len(", ".join([*kept, word])) > HELD_WORDS_LENGTH:
            break
        kept.append(word)
    return ", ".join(kept) or None


def hold_for_watch_words(listing: Listing) -> bool:
    """Record the watch-words in the listing's text; True when it must wait for review."""
    words = find_watch_words(listing.title, listing.description, listing.batch_number,
                             listing.storage_conditions)
    listing.held_words = held_words_value(words)
    return bool(words)


def held_words_of(listing: Listing) -> list[str]:
    return [word.strip() for word in (listing.held_words or "").split(",") if word.strip()]


def highlight(text: str | None, words: Iterable[str]) -> Markup:
    """`text` escaped, with every match of `words` wrapped in <mark> (safe to show as is)."""
    text = text or ""
    spans = sorted((start, end) for start, end, _word in _spans(text, list(words)))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[Markup] = []
    position = 0
    for start, end in merged:
        pieces.append(escape(text[position:start]))
        pieces.append(Markup("<mark>%s</mark>") % text[start:end])
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def all_watch_words() -> list[WatchWord]:
    return list(db.session.scalars(select(WatchWord).order_by(WatchWord.kind, WatchWord.word)))


@atomic
def add_watch_word(actor: User, word: str, kind: WatchWordKind | str) -> WatchWord:
    """Add a word or phrase (stored folded); raises DomainError(field="word") when it is
    empty, too long, has other characters than letters, digits, spaces and hyphens, or is
    on the list already."""
    require(actor, Action.ADMINISTER_PLATFORM)
    folded = fold(word or "")
    if not 1 <= len(folded) <= MAX_WORD_LENGTH:
        raise DomainError(_("Enter a word of 1 to %(max)d characters.", max=MAX_WORD_LENGTH),
                          field="word")
    if not all(character.isalnum() or character in " -" for character in folded) \
            or not any(character.isalnum() for character in folded):
        raise DomainError(_("Use letters, digits, spaces and hyphens only."), field="word")
    try:
        kind = WatchWordKind(kind)
    except ValueError as error:
        raise DomainError(_("Choose a kind."), field="kind") from error
    if db.session.scalar(select(WatchWord.id).where(WatchWord.word == folded)) is not None:
        raise DomainError(_("“%(word)s” is on the list already.", word=folded), field="word")
    watch_word = WatchWord(word=folded, kind=kind)
    try:
        with savepoint():
            db.session.add(watch_word)
            db.session.flush()
    except IntegrityError as error:  # added by another admin a moment ago
        raise DomainError(_("“%(word)s” is on the list already.", word=folded),
                          field="word") from error
    audit.record(actor, "watch_word.add", watch_word, reason=kind.value)
    return watch_word


@atomic
def delete_watch_word(actor: User, watch_word: WatchWord) -> None:
    require(actor, Action.ADMINISTER_PLATFORM)
    audit.record(actor, "watch_word.delete", watch_word, reason=watch_word.kind.value)
    db.session.delete(watch_word)
