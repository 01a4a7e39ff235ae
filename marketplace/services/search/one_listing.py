"""Whether a search's words find one listing: how alerts and wanted posts match a listing being
published, with the search's own terms and SQL, so that they find exactly what the search finds
(filters other than the words are theirs to apply: category, province, condition, distance)."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Listing
from .conditions import on_sqlite
from .fulltext import postgres_condition, sqlite_matching_ids
from .query import search_words
from .terms import WordTerms, terms_of


def has_words(listing_id: int, text: str) -> bool:
    """Whether searching `text` finds listing `listing_id` by its words (no words: it does)."""
    return has_terms(listing_id, terms_of(search_words(text)))


def has_terms(listing_id: int, terms: list[WordTerms]) -> bool:
    if not terms:
        return True
    if on_sqlite():
        # The matches of this listing alone (its rowid): the search's compound of matches.
        statement = sqlite_matching_ids(terms, range(listing_id, listing_id + 1)).limit(1)
    else:
        statement = select(Listing.id).where(Listing.id == listing_id,
                                              postgres_condition(terms))
    return db.session.scalar(statement) is not None
