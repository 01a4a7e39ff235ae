"""Searching listings: words, filters, sorting and pages, the same on SQLite and PostgreSQL.

Words are matched by the full-text indexes of models/search_index.py, on both databases by their
Dutch and English stems ("rolstoelen" finds "rolstoel", "wheelchairs" finds "wheelchair"), by
their synonyms (services/synonyms.py), by part of a title's word from PART_MIN_LENGTH characters
("stoel" finds "Douchestoelen") and by the names of categories in both languages (terms.py). On
SQLite every word of two or more characters also matches longer words that start with it
("rolst" finds "rolstoelen"). Accents never count. All words must match; whole words and stems
rank before the rest. Whatever the user types is split into words here and passed to the
database as quoted strings (SQLite) or through plainto_tsquery and an escaped ILIKE
(PostgreSQL), never as query syntax.

Only listings a viewer may see are found: published, not past their "available until" date, of
an active organisation, and not in their internal phase unless the viewer belongs to the
listing's organisation or is a platform admin (security.listing_visible_to in SQL).

The package, by concern (each module's docstring says more):
  query.py          SearchQuery (from URL parameters), Sort, search_words, how many ids to read
  limits.py         how much a search reads, counts and accepts (tests change them here)
  visibility.py     Visibility: which listings a viewer sees; when that changes with time
  conditions.py     the WHERE and ORDER BY on both databases
  fulltext.py       the words in SQL (FTS5, tsquery) and WordMatch
  sqlite_plan.py    SQLite's plan, chosen by what each way reads (no statistics)
  postgres_plan.py  PostgreSQL's plan: its planner, with the words' matches first where it errs
  plan.py           the SELECT of the matching ids in order, from the database's plan
  finding.py        find_listings (Found: the ids, with what they are sorted by), page_of
  refinding.py      refind: a kept Found brought up to date by asking about changed listings
  cards.py          ListingCard (what a result card shows, read with two plain queries)
  terms.py          what each typed word matches: its forms, synonyms, parts, category names
  one_listing.py    has_words: whether the words find one listing (alerts, wanted posts)
  distance.py       the origin a viewer may measure from (with_origin), within N km, nearest first
  suggestions.py    "Did you mean …?": typo suggestions from the listings' own vocabulary

Everything other modules use is imported from here (`from ..services.search import ...`). The
limits tests change (COUNT_LIMIT, DEEP_PAGE, …) are not re-exported: set on this package they
would change nothing; tests set them on `search.limits`.
"""

from .cards import ListingCard, SearchResults
from .distance import (
    DISTANCE_CHOICES,
    km_between,
    origin_choices,
    searching_as,
    sites_around,
    with_origin,
)
from .finding import Found, find_listings, page_ids, page_of, search_listings
from .limits import (
    DEFAULT_PER_PAGE,
    MAX_DAYS,
    MAX_PAGE_ARG,
    MAX_PER_PAGE,
    MAX_RESULTS,
    MAX_TEXT_LENGTH,
    MAX_WORD_LENGTH,
    MAX_WORDS,
)
from .one_listing import has_words
from .query import Origin, SearchQuery, Sort, search_words
from .refinding import refind
from .suggestions import SUGGEST_UP_TO, did_you_mean, refresh_vocabulary, suggest
from .visibility import (
    Visibility,
    internal_listings_of,
    next_visibility_change,
    results_visibility,
    visibility_of,
)

__all__ = [
    "DEFAULT_PER_PAGE",
    "DISTANCE_CHOICES",
    "MAX_DAYS",
    "MAX_PAGE_ARG",
    "MAX_PER_PAGE",
    "MAX_RESULTS",
    "MAX_TEXT_LENGTH",
    "MAX_WORDS",
    "MAX_WORD_LENGTH",
    "SUGGEST_UP_TO",
    "Found",
    "ListingCard",
    "Origin",
    "SearchQuery",
    "SearchResults",
    "Sort",
    "Visibility",
    "did_you_mean",
    "find_listings",
    "has_words",
    "internal_listings_of",
    "km_between",
    "next_visibility_change",
    "origin_choices",
    "page_ids",
    "page_of",
    "refind",
    "refresh_vocabulary",
    "results_visibility",
    "search_listings",
    "search_words",
    "searching_as",
    "sites_around",
    "suggest",
    "visibility_of",
    "with_origin",
]
