"""The search page and the search service with whatever hypothesis makes up.

Whatever is in the URL (any text as `q`, any value, or several, for every filter, the sort and
the page), GET /listings/ answers 200 with the search form, on SQLite (FTS5) and PostgreSQL
(tsvector). The service's invariants, checked directly: the words passed to the database are
bounded and plain (no query syntax survives: quotes, NEAR, AND/OR/NOT, `*`, `^`, `title:`,
parentheses), so a listing whose title is the search text is found by it; the URL parameters
always make a valid query that survives a round trip through its own links; a result page is
never longer than a page, its count never negative, and only visible listings are on it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from fuzzing import FUZZ, TRICKY, field_value, text_value
from helpers import on_postgres
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from marketplace.extensions import db
from marketplace.models import (
    Condition,
    Listing,
    ListingStatus,
    OrganisationKind,
    OrganisationStatus,
    Province,
)
from marketplace.services.search import (
    MAX_DAYS,
    MAX_PAGE_ARG,
    MAX_PER_PAGE,
    MAX_RESULTS,
    MAX_TEXT_LENGTH,
    MAX_WORD_LENGTH,
    MAX_WORDS,
    SearchQuery,
    Sort,
    search_listings,
    search_words,
)
from marketplace.services.search.fulltext import fts5_query
from marketplace.services.search.terms import WordTerms
from marketplace.words import fold

TODAY = date.today()

# Every parameter the search URL reads (SearchQuery.from_args), with values a link would have.
SEARCH_PARAMETERS = {
    "q": ["rolstoel", "bed", "NEAR(rolstoel bed)", 'title:"x"'],
    "category": ["1", "2", "0", "-1", "2147483647", "2147483648"],
    "condition": [condition.value for condition in Condition],
    "province": [province.value for province in Province],
    "kind": [kind.value for kind in OrganisationKind],
    "delivery": ["1", "yes", "on", "0"],
    "days": ["1", "7", "30", str(MAX_DAYS), str(MAX_DAYS + 1)],
    "sort": [sort.value for sort in Sort],
    "page": ["1", "2", "417", str(MAX_PAGE_ARG), str(MAX_PAGE_ARG + 1)],
}
search_args = st.fixed_dictionaries(
    {}, optional={name: field_value(good) for name, good in SEARCH_PARAMETERS.items()})

# Text made of the pieces of FTS5 and tsquery syntax, and words both databases agree are words.
SYNTAX = ['"', '""', "*", "^", "(", ")", ":", "-", "+", "NEAR", "NEAR/2", "AND", "OR", "NOT",
          "title:", "description:", "{title}", "&", "|", "!", "<->", "'", ",", "."]
word_pieces = st.one_of(st.sampled_from(SYNTAX),
                        st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüß",
                                min_size=1, max_size=12))
syntax_text = st.lists(st.lists(word_pieces, min_size=1, max_size=4).map("".join),
                       min_size=1, max_size=6).map(" ".join)


@pytest.fixture
def corpus(app, make_org, make_listing, make_user):
    """A few listings whose words look like query syntax, some of them not visible."""
    org = make_org()
    make_listing('Rolstoel "NEAR" bed', organisation=org, description="AND OR NOT title: (x)*")
    make_listing("Bed ^ hoog-laag", organisation=org, delivery_possible=True)
    make_listing("Rolstoel concept", organisation=org, status=ListingStatus.DRAFT)
    make_listing("Rolstoel verlopen", organisation=org,
                 available_until=TODAY - timedelta(days=1))
    make_listing("Rolstoel geschorst", organisation=make_org(status=OrganisationStatus.SUSPENDED))
    return make_user()


@FUZZ
@given(args=search_args, logged_in=st.booleans())
def test_the_search_page_answers_any_parameters_with_results_or_none(
        app, corpus, login_as, args, logged_in):
    client = login_as(corpus) if logged_in else app.test_client()
    response = client.get("/listings/", query_string=MultiDict(
        [(name, value) for name, values in args.items()
         for value in (values if isinstance(values, list) else [values])]))
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert 'name="q"' in response.get_data(as_text=True)


@settings(FUZZ, max_examples=100)
@given(text=st.one_of(text_value, syntax_text))
def test_search_words_are_few_short_plain_words(text):
    words = search_words(text)
    assert len(words) <= MAX_WORDS
    for word in words:
        assert 0 < len(word) <= MAX_WORD_LENGTH
        assert word == word.strip() and not any(character.isspace() for character in word)
        assert all(character.isprintable() for character in word), repr(word)
        assert any(character.isalnum() for character in word)
        assert word in text[:MAX_TEXT_LENGTH]  # a piece of what was typed, nothing added


@settings(FUZZ, max_examples=100)
@given(text=st.one_of(text_value, syntax_text))
def test_every_word_is_one_quoted_fts5_string(text):
    """Nothing typed becomes FTS5 syntax: each word (and each of its forms) is a string with its
    quotes doubled; outside the strings only the query's own operators."""
    query = fts5_query([WordTerms(forms=(word, fold(word)), parts=(), category_ids=())
                        for word in search_words(text)])
    unquoted, inside = [], False
    position = 0
    while position < len(query):
        character = query[position]
        if character == '"':
            if inside and query[position + 1:position + 2] == '"':
                position += 2
                continue
            inside = not inside
        elif not inside:
            unquoted.append(character)
        position += 1
    assert not inside
    assert set("".join(unquoted).replace("OR", "").replace("AND", "")) <= set(" ()*")


@settings(FUZZ, max_examples=50)
@given(args=st.dictionaries(st.sampled_from([*SEARCH_PARAMETERS, "per_page", *TRICKY[:6]]),
                            st.one_of(text_value, st.lists(text_value, max_size=3)),
                            max_size=10))
def test_any_url_parameters_make_a_valid_query_that_its_links_keep(app, args):
    query = SearchQuery.from_args(MultiDict(
        [(name, value) for name, values in args.items()
         for value in (values if isinstance(values, list) else [values])]))
    assert 1 <= query.page <= MAX_PAGE_ARG
    assert query.per_page <= MAX_PER_PAGE
    assert query.posted_within_days is None or 1 <= query.posted_within_days <= MAX_DAYS
    assert query.category_id is None or 1 <= query.category_id < 2**31
    assert len(query.text) <= MAX_TEXT_LENGTH
    assert SearchQuery.from_args(query.to_args()) == query


def visible_titles() -> set[str]:
    return {title for (title,) in db.session.execute(select(Listing.title).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.available_until >= TODAY))}


@FUZZ
@given(text=st.one_of(text_value, syntax_text),
       page=st.integers(), per_page=st.integers(),
       category_id=st.none() | st.integers(-2**31, 2**31 - 1),
       condition=st.none() | st.sampled_from(Condition),
       province=st.none() | st.sampled_from(Province),
       kind=st.none() | st.sampled_from(OrganisationKind),
       delivery_only=st.booleans(), days=st.none() | st.integers(-10, 2 * MAX_DAYS),
       sort=st.sampled_from(Sort))
def test_a_result_page_is_bounded_and_shows_only_visible_listings(
        corpus, text, page, per_page, category_id, condition, province, kind, delivery_only,
        days, sort):
    results = search_listings(AnonymousUserMixin(), SearchQuery(
        text=text, page=page, per_page=per_page, category_id=category_id, condition=condition,
        province=province, organisation_kind=kind, delivery_only=delivery_only,
        posted_within_days=days, sort=sort))
    assert results.total >= 0
    assert len(results.listings) <= min(max(per_page, 1), MAX_PER_PAGE)
    assert len(results.listings) <= results.total
    if (max(page, 1) - 1) * min(max(per_page, 1), MAX_PER_PAGE) >= MAX_RESULTS:
        assert results.listings == []
    assert {listing.title for listing in results.listings} <= visible_titles()


def has_lexemes(word: str) -> bool:
    """PostgreSQL: does the word say anything to the text search (stop words do not)?"""
    return bool(db.session.scalar(select(func.numnode(
        func.plainto_tsquery("dutch", word).op("||")(func.plainto_tsquery("english", word))))))


@FUZZ
@given(text=syntax_text)
def test_a_listing_is_found_by_its_own_title_whatever_syntax_it_holds(
        app, make_listing, text):
    """Query syntax in the search text is matched as text, so it cannot hide a listing."""
    title = " ".join(text.split())[:120]
    words = search_words(title)
    assume(words and (not on_postgres() or any(has_lexemes(word) for word in words)))
    listing = make_listing(title)
    try:
        found = search_listings(None, SearchQuery(text=title, sort=Sort.RELEVANCE))
        assert listing.id in [item.id for item in found.listings], (title, words)
    finally:
        db.session.delete(listing)
        db.session.commit()
