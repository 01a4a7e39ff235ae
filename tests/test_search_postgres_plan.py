"""PostgreSQL's plan for words (services/search/postgres_plan.py): whether the words' matches are
read first, and how many listings have the words before relevance is ranked. However the plan
counts and reads, the same listings come in the same order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from helpers import on_postgres, recorded_statements
from sqlalchemy import func, select, text

from marketplace.extensions import db
from marketplace.models import Listing, Province
from marketplace.models.base import utcnow
from marketplace.services.search import (
    SearchQuery,
    SearchResults,
    Sort,
    postgres_plan,
    search_listings,
    with_origin,
)
from marketplace.services.search import limits as search_limits
from marketplace.services.search.fulltext import postgres_condition
from marketplace.services.search.terms import terms_of

pytestmark = pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's plan")


def find(text: str, sort: Sort = Sort.RELEVANCE, **query) -> SearchResults:
    return search_listings(None, SearchQuery(text=text, sort=sort, per_page=100, **query))


def listing(make_listing, title: str, hours_ago: int, category: str = "furniture") -> None:
    made = make_listing(title, description="Zie de foto.", category=category)
    made.published_at = utcnow() - timedelta(hours=hours_ago)
    db.session.commit()


def planner_expects(monkeypatch, rows: float) -> None:
    """As if PostgreSQL's planner expected `rows` listings with the words."""
    planned = postgres_plan._planned
    monkeypatch.setattr(postgres_plan, "_planned", lambda statement: replace(
        planned(statement), rows=rows))


def kast_listings(make_listing) -> None:
    """Two listings with `kast`, the newest by part of a word, and one without."""
    listing(make_listing, "Kantoorkast", 1)
    listing(make_listing, "Kast", 2)
    listing(make_listing, "Tafel", 3)


@pytest.mark.parametrize("scans_all", [True, False], ids=["by each way", "by the condition"])
def test_several_words_are_ranked_while_few_listings_hold_them_all(app, make_listing,
                                                                   monkeypatch, scans_all):
    """Only the listings with every word count towards RANK_LIMIT, whether the planner reads
    the words' indexes (counted by the ranked search itself as it reads their BitmapAnd) or
    not (each word's ways, counted first)."""
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 2)
    monkeypatch.setattr(postgres_plan, "_scans_all", lambda _node: scans_all)
    listing(make_listing, "Douchestoel", 1)
    listing(make_listing, "Elektrische deken", 2)
    listing(make_listing, "Elektrische douchestoel", 3)
    listing(make_listing, "Douchestoel wit", 4)
    listing(make_listing, "Elektrische deken groot", 5)
    listing(make_listing, "Elektrische bureaustoel", 6)

    ranked = find("stoel elektrische")
    assert ranked.sorted_by is Sort.RELEVANCE
    assert [card.title for card in ranked.listings] == ["Elektrische douchestoel",
                                                        "Elektrische bureaustoel"]

    listing(make_listing, "Elektrische rolstoel", 7)
    newest = find("stoel elektrische")
    assert newest.sorted_by is Sort.NEWEST
    assert [card.title for card in newest.listings] == [
        "Elektrische douchestoel", "Elektrische bureaustoel", "Elektrische rolstoel"]


@pytest.mark.parametrize("scans_all", [True, False], ids=["counted first", "counted by ranking"])
def test_one_word_found_by_part_is_ranked_while_few_listings_hold_it(app, make_listing,
                                                                     monkeypatch, scans_all):
    """`kast`, found by part of a title's word in listings the planner expects to be few: where
    it reads them through the indexes, the ranked search counts them itself as it reads them,
    without a count of its own that read them all once more (`kast` at 100,000 listings: 10
    of 36 ms); else they are counted first. Past RANK_LIMIT, newest first either way."""
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 2)
    monkeypatch.setattr(postgres_plan, "_scans_all", lambda _node: scans_all)
    planner_expects(monkeypatch, 3)
    kast_listings(make_listing)

    with recorded_statements() as statements:
        ranked = find("kast")
    assert ranked.sorted_by is Sort.RELEVANCE
    assert [card.title for card in ranked.listings] == ["Kast", "Kantoorkast"]
    counted_first = any(statement.startswith("SELECT count(*)") for statement in statements)
    assert counted_first == scans_all

    listing(make_listing, "Boekenkast", 4)
    newest = find("kast")
    assert newest.sorted_by is Sort.NEWEST
    assert [card.title for card in newest.listings] == ["Kantoorkast", "Kast", "Boekenkast"]


@pytest.mark.parametrize("expected", [10**6, 3], ids=["expected in many", "counted"])
def test_words_in_too_many_listings_to_rank_are_read_as_newest_first_reads_them(
        app, make_listing, monkeypatch, expected):
    """By best match, words in more than RANK_LIMIT listings are shown newest first, read the
    way a newest-first search reads them: their matches first, where that pays (`stoel
    elektrische` at 1,000,000 listings: 133 ms read in date order, 100 ms read first)."""
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 1)
    monkeypatch.setattr(postgres_plan, "_POSTGRES_MATCH_COST", 0)  # reading first always pays
    monkeypatch.setattr(postgres_plan, "_POSTGRES_FEW_MATCHES", -1)
    planner_expects(monkeypatch, expected)
    kast_listings(make_listing)

    with recorded_statements() as statements:
        found = find("kast")
    assert found.sorted_by is Sort.NEWEST
    assert [card.title for card in found.listings] == ["Kantoorkast", "Kast"]
    assert any("listing.id = ANY (array(" in statement for statement in statements)


def test_a_search_with_words_never_gives_its_bitmaps_less_room_than_the_server(app,
                                                                              make_listing,
                                                                              monkeypatch):
    """The search raises work_mem for its own transaction to hold a bitmap over every page of
    listing; where the server allows more, it keeps the server's."""
    listing(make_listing, "Elektrische douchestoel", 1)
    db.session.execute(text("ANALYZE listing"))  # pg_class: the table's pages
    # As if a page's bitmap took 16 MB: the room asked for is more than the server's 4 MB.
    per_page = 16 * 1024 * 1024
    monkeypatch.setattr(postgres_plan, "_ROOM_FOR_BITMAPS",
                        postgres_plan._ROOM_FOR_BITMAPS.bindparams(bytes=per_page))

    def work_mem() -> int:
        return db.session.scalar(text("SELECT pg_size_bytes(current_setting('work_mem'))"))

    pages = db.session.scalar(text(
        "SELECT greatest(relpages, 0) FROM pg_class WHERE oid = 'listing'::regclass"))
    server = work_mem()
    find("stoel elektrische")
    assert work_mem() == max(server, pages * per_page) > server
    db.session.rollback()

    db.session.execute(text("SET LOCAL work_mem = '2GB'"))
    find("stoel elektrische")
    assert work_mem() == 2 * 1024 * 1024 * 1024


@pytest.mark.parametrize("expected", [None, 8], ids=["as planned", "way by way"])
def test_a_word_naming_a_category_counts_the_category_and_the_rest(app, make_listing,
                                                                    monkeypatch, expected):
    """"rolstoel" finds the category "Loophulpmiddelen en rolstoelen" and titles holding it:
    more than RANK_LIMIT listings in the category alone, or with the rest, are shown newest
    first, whether counted as one union or way by way (where the planner expects more than
    one and a half times RANK_LIMIT, up to three times)."""
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 3)
    if expected is not None:
        planner_expects(monkeypatch, expected)
    listing(make_listing, "Looprek", 1, category="mobility")
    listing(make_listing, "Rolstoel", 2, category="mobility")  # found all three ways
    listing(make_listing, "Rollator", 3, category="mobility")
    listing(make_listing, "Bureaustoel", 4, category="mobility")
    assert find("rolstoel").sorted_by is Sort.NEWEST  # four in the category alone

    db.session.execute(Listing.__table__.delete().where(
        Listing.title.in_(["Rollator", "Bureaustoel"])))
    db.session.commit()
    ranked = find("rolstoel")
    assert ranked.sorted_by is Sort.RELEVANCE  # two, each counted once
    assert [card.title for card in ranked.listings] == ["Rolstoel", "Looprek"]

    listing(make_listing, "Rolstoelkussen", 5)
    listing(make_listing, "Elektrische rolstoel", 6)
    newest = find("rolstoel")
    assert newest.sorted_by is Sort.NEWEST  # two in the category, four in all
    assert [card.title for card in newest.listings] == [
        "Looprek", "Rolstoel", "Rolstoelkussen", "Elektrische rolstoel"]


def test_a_sampled_plan_finds_what_the_planners_plan_finds(app, make_listing, monkeypatch):
    """Where the planner's estimate may be too high to tell, the share of matches among the
    newest listings decides whether they are read first; either way the results are the
    same."""
    for number in range(12):
        listing(make_listing, ["Handschoenen", "Gloves", "Kast", "Bureaustoel"][number % 4]
                + f" {number}", number + 1)
    queries = [SearchQuery(text=text, sort=sort, per_page=3, page=page)
               for text in ["gloves", "stoel", "kast", "handschoen"]
               for sort in [Sort.NEWEST, Sort.EXPIRING] for page in [1, 2]]
    by_planner = [[card.id for card in search_listings(None, query).listings]
                  for query in queries]
    sampled: list[float] = []
    sample = postgres_plan._sampled

    def few(condition, listings: int) -> float:
        sampled.append(sample(condition, listings))
        return 0.0

    monkeypatch.setattr(postgres_plan, "_sampled", few)
    monkeypatch.setattr(postgres_plan, "_POSTGRES_FEW_MATCHES", -1)
    monkeypatch.setattr(postgres_plan, "_POSTGRES_MATCH_COST", 10**9)
    monkeypatch.setattr(postgres_plan, "_ESTIMATE_SLACK", 10**12)
    by_sample = [[card.id for card in search_listings(None, query).listings]
                 for query in queries]

    assert len(sampled) == len(queries)
    assert any(by_planner)
    assert by_sample == by_planner


def test_the_sample_tells_how_many_listings_have_the_words(app, make_listing, monkeypatch):
    for number in range(20):
        listing(make_listing, "Gloves" if number % 4 == 0 else "Kast", number + 1)
    condition = postgres_condition(terms_of(["gloves"]))
    newest = db.session.scalar(select(func.max(Listing.id)))

    assert postgres_plan._sampled(condition, newest) == 5 * newest / 20  # ids as listings
    monkeypatch.setattr(postgres_plan, "_SAMPLE", 8)  # the newest eight: two
    assert postgres_plan._sampled(condition, newest) == 2 * newest / 8


@pytest.mark.parametrize("where", [{"within_km": 10}, {"province": Province.UTRECHT}],
                         ids=["within 10 km", "in a province"])
@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.EXPIRING, Sort.RELEVANCE])
def test_a_ring_read_first_finds_what_the_planners_plan_finds(app, make_user, make_listing,
                                                                monkeypatch, sort, where):
    """Within a radius or a province, words found in many listings are tested on the ring's
    listings read first, in order (plan._ring_first): the same listings in the same order as
    the planner's own plan, each filter kept (the radius or province, the words, the internal
    phase, the date)."""
    from test_distance import organisation_in  # the sites placed by the gazetteer

    home = organisation_in("Utrecht", "utrecht", "Zorg Utrecht")
    member = make_user(organisation=home)
    zeist = organisation_in("Zeist", "utrecht", "Zorg Zeist")
    far = organisation_in("Groningen", "groningen", "Zorg Groningen")
    for number in range(8):
        made = make_listing(f"Rolstoel {number}", organisation=[home, zeist][number % 2],
                            available_until=utcnow().date() + timedelta(days=30 - number))
        made.published_at = utcnow() - timedelta(hours=number)
    make_listing("Rolstoel Groningen", organisation=far)  # outside the radius
    make_listing("Kast Zeist", organisation=zeist)  # without the word
    make_listing("Rolstoel intern Zeist", organisation=zeist,
                 internal_until=utcnow() + timedelta(days=2))  # another's internal phase
    make_listing("Rolstoel intern thuis", organisation=home,
                 internal_until=utcnow() + timedelta(days=2))  # the member's own
    make_listing("Rolstoel verlopen", organisation=zeist,
                 available_until=utcnow().date() - timedelta(days=1))
    db.session.commit()
    planner_expects(monkeypatch, 10**9)  # as if the word were in most of a large platform
    monkeypatch.setattr(postgres_plan, "_sampled", lambda _condition, _listings: 10**9)

    ring_sites = postgres_plan._ring_sites

    def titles(ring_first: bool, page: int) -> tuple[list[str], list[str]]:
        monkeypatch.setattr(postgres_plan, "_ring_sites",
                            ring_sites if ring_first else lambda _query: None)
        with recorded_statements() as statements:
            query = with_origin(member, SearchQuery(text="rolstoel", sort=sort, per_page=3,
                                                    page=page, **where))
            found = search_listings(member, query)
        return [card.title for card in found.listings], statements

    for page in (1, 2, 3):
        read_first, statements = titles(True, page)
        assert any("AS ring" in statement for statement in statements)
        planners, statements = titles(False, page)
        assert not any("AS ring" in statement for statement in statements)
        assert read_first == planners
    everything = titles(True, 1)[0] + titles(True, 2)[0] + titles(True, 3)[0]
    assert sorted(everything) == sorted([f"Rolstoel {number}" for number in range(8)]
                                        + ["Rolstoel intern thuis"])


def test_a_radius_with_words_in_few_listings_keeps_the_planners_plan(app, make_user,
                                                                     make_listing):
    """Read first, the ring would be read whole before enough listings match: a word in a few
    listings is read through its index first, as PostgreSQL plans it."""
    from test_distance import organisation_in

    home = organisation_in("Utrecht", "utrecht", "Zorg Utrecht")
    member = make_user(organisation=home)
    for number in range(6):
        make_listing(["Rolstoel", "Kast", "Bureau"][number % 3] + f" {number}", organisation=home)
    db.session.commit()
    with recorded_statements() as statements:
        found = search_listings(member, with_origin(member, SearchQuery(
            text="rolstoel", sort=Sort.NEWEST, within_km=10)))
    assert [card.title for card in found.listings] == ["Rolstoel 3", "Rolstoel 0"]
    assert not any("AS ring" in statement for statement in statements)


def test_a_word_found_by_its_words_alone_beside_other_words_finds_no_more(app, make_listing):
    """`stoel new`: `new` is matched by the full-text index alone, `stoel` also by part of a
    title's word. `new` is given a second way that finds nothing, so that the planner reads
    its index and ANDs it with `stoel`'s ways (at 1,000,000 listings it put `new` into
    `stoel`'s full-text scan and tested it on 110,000 listings: 415 ms, now 62; bench/search.py
    measures it). That way finds nothing, whatever the listings hold."""
    listing(make_listing, "Bureaustoel new", 1)
    listing(make_listing, "Bureaustoel", 2)
    listing(make_listing, "Stoel, no word", 3)
    listing(make_listing, "New", 4)
    made = make_listing("Stoel", description="As good as new.")
    made.published_at = utcnow() - timedelta(hours=5)
    db.session.commit()

    for sort in (Sort.RELEVANCE, Sort.NEWEST):
        assert [card.title for card in find("stoel new", sort).listings] == [
            "Stoel", "Bureaustoel new"][::1 if sort is Sort.RELEVANCE else -1]


def test_a_part_every_title_word_holds_as_a_whole_word_is_not_looked_for_in_titles(
        app, make_listing):
    """`kast` is looked for inside the titles' words only while a title has held a longer word
    with it (`listing_parts_words`, kept in the same transaction as the titles): with `Kast`
    alone the full-text index finds every listing (at 1,000,000 listings `elektrische` read
    64,000 titles' trigrams for nothing: 95 -> 70 ms). Once a listing is renamed
    `Boekenkast`, or one called `Eettafel` is saved, the next search finds it."""
    listing(make_listing, "Kast", 2)
    listing(make_listing, "Tafel", 1)

    def search(word: str) -> tuple[list[str], bool]:
        with recorded_statements() as statements:
            found = find(word, Sort.NEWEST)
        return ([card.title for card in found.listings],
                any("ILIKE" in statement for statement in statements))

    assert search("kast") == (["Kast"], False)
    assert search("tafel") == (["Tafel"], False)

    db.session.execute(Listing.__table__.update().where(Listing.title == "Tafel")
                       .values(title="Boekenkast"))
    db.session.commit()
    assert search("kast") == (["Boekenkast", "Kast"], True)

    listing(make_listing, "Eettafel", 3)
    assert search("tafel") == (["Eettafel"], True)
