"""Searching listings through the service: words, filters, sorting, visibility and pages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from helpers import on_postgres
from sqlalchemy import event, select, text

from marketplace.extensions import db
from marketplace.models import (
    Category,
    Condition,
    ListingPhoto,
    ListingStatus,
    OrganisationKind,
    OrganisationStatus,
    Photo,
    Province,
    Role,
)
from marketplace.models.base import utcnow
from marketplace.services.categories import ensure_default_categories
from marketplace.services.search import (
    MAX_WORDS,
    SearchQuery,
    SearchResults,
    Sort,
    postgres_plan,
    search_listings,
    search_words,
    sqlite_plan,
)
from marketplace.services.search import limits as search_limits

sqlite_only = pytest.mark.skipif(on_postgres(), reason="SQLite's FTS5 behaviour")
postgres_only = pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's text search")


def find(viewer=None, **query) -> SearchResults:
    return search_listings(viewer, SearchQuery(**query))


def titles(viewer=None, **query) -> list[str]:
    return [listing.title for listing in find(viewer, **query).listings]


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


@pytest.fixture
def queries(app) -> Iterator[list[str]]:
    """The SQL statements run while the test body runs."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    event.remove(db.engine, "before_cursor_execute", record)


# --- words -----------------------------------------------------------------------------------

def test_words_from_the_description_find_the_listing(app, make_listing):
    make_listing("Bureaustoel", description="Verstelbare zitting, zwarte armleuningen.")
    make_listing("Kast", description="Grijze archiefkast met sleutel.")

    assert titles(text="armleuningen") == ["Bureaustoel"]
    assert titles(text="ARCHIEFKAST") == ["Kast"]


def test_every_word_must_match_in_title_or_description(app, make_listing):
    make_listing("Rolstoel", description="Lichtgewicht, opvouwbaar.")
    make_listing("Rollator", description="Opvouwbaar met mandje.")

    assert titles(text="opvouwbaar rolstoel") == ["Rolstoel"]
    assert titles(text="rolstoel mandje") == []
    assert sorted(titles(text="opvouwbaar")) == ["Rollator", "Rolstoel"]


@pytest.mark.parametrize("text", ["", "   ", "🙂", "-- !! ()", "\x00\t"])
def test_text_without_words_lists_every_visible_listing(app, make_listing, text):
    make_listing("Bureaustoel")
    make_listing("Kast")

    assert sorted(titles(text=text)) == ["Bureaustoel", "Kast"]


def test_accents_do_not_count(app, make_listing):
    make_listing("Tafels uit het café", description="Ronde tafels.")

    assert titles(text="cafe") == ["Tafels uit het café"]
    assert titles(text="CAFÉ") == ["Tafels uit het café"]


@sqlite_only
def test_sqlite_matches_words_that_start_with_a_search_word(app, make_listing):
    make_listing("Rolstoelen", description="Twee stuks.")
    make_listing("Pressure cushion", description="Pressure relief.")

    assert titles(text="rolst") == ["Rolstoelen"]
    assert titles(text="cush") == ["Pressure cushion"]


@sqlite_only
def test_sqlite_matches_one_letter_words_whole(app, make_listing):
    make_listing("Vitamine C tabletten")
    make_listing("Computer")

    assert titles(text="c") == ["Vitamine C tabletten"]


def test_finds_dutch_and_english_word_forms(app, make_listing):
    make_listing("Rolstoel", description="Lichtgewicht, opvouwbaar.")
    make_listing("Wheelchair", description="Foldable, with cushions.")
    make_listing("Bedden", description="Hoog-laag bedden met tilliften.")

    # The seeded synonyms (rolstoel = wheelchair) find both.
    assert sorted(titles(text="rolstoelen")) == ["Rolstoel", "Wheelchair"]
    assert sorted(titles(text="wheelchairs")) == ["Rolstoel", "Wheelchair"]
    assert titles(text="cushion") == ["Wheelchair"]
    assert titles(text="bed tillift") == ["Bedden"]


@postgres_only
def test_postgres_matches_each_word_in_either_language(app, make_listing):
    make_listing("Rolstoelen", description="With cushions.")

    assert titles(text="rolstoel cushion") == ["Rolstoelen"]


HOSTILE = [
    '"', '"unbalanced', "*", "NEAR(a b)", "-foo", "(((", "a AND OR", "'; DROP TABLE listing; --",
    "🙂", "x" * 5000, "   ", "title:stoel", "^stoel", "stoel:*", "a & b | !c", "a <-> b",
    '"" "', "NOT", "\x00stoel", "\ud800", "ÿ" * 300, "stoel " * 500,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("sort", list(Sort))
def test_hostile_search_text_never_raises(app, make_listing, text, sort):
    make_listing("Bureaustoel", description='Stoel "NEAR" (zwart) - a AND b')

    from_url = search_listings(None, SearchQuery.from_args({"q": text, "sort": sort}))
    filtered = search_listings(None, SearchQuery(text=text, sort=sort, category_id=999,
                                                 condition=Condition.GOOD, page=2))

    assert isinstance(from_url, SearchResults)
    assert filtered.listings == []


def test_search_words_are_capped():
    assert search_words("a " * 100) == ["a"] * MAX_WORDS
    assert len(search_words("x" * 5000)[0]) <= 40
    assert search_words(' "rolstoel" -bed (((') == ['"rolstoel"', "-bed"]


# --- filters ---------------------------------------------------------------------------------

def test_category_includes_its_children(app, make_listing):
    make_listing("Rolstoel", category="mobility")
    make_listing("Bloeddrukmeter", category="monitoring")
    make_listing("Hulpmiddel", category="medical-aids")
    make_listing("Bureau", category="office-furniture")

    assert sorted(titles(category_id=category_id("medical-aids"))) == [
        "Bloeddrukmeter", "Hulpmiddel", "Rolstoel"]
    assert titles(category_id=category_id("mobility")) == ["Rolstoel"]
    assert titles(category_id=category_id("furniture")) == ["Bureau"]
    assert titles(category_id=123_456) == []


def test_condition_filter(app, make_listing):
    make_listing("Nieuw bed", condition=Condition.NEW)
    make_listing("Oud bed", condition=Condition.FAIR)

    assert titles(condition=Condition.NEW) == ["Nieuw bed"]


def test_province_filter_uses_the_pick_up_site(app, make_listing, make_org):
    limburg = make_org()
    limburg.sites[0].province = Province.LIMBURG
    db.session.commit()
    make_listing("In Maastricht", organisation=limburg)
    make_listing("In Utrecht")

    assert titles(province=Province.LIMBURG) == ["In Maastricht"]
    assert titles(province=Province.UTRECHT) == ["In Utrecht"]
    assert titles(province=Province.ZEELAND) == []


def test_organisation_kind_filter(app, make_listing, make_org):
    make_listing("Van de huisarts", organisation=make_org(kind=OrganisationKind.GP))
    make_listing("Van het ziekenhuis", organisation=make_org(kind=OrganisationKind.HOSPITAL))

    assert titles(organisation_kind=OrganisationKind.GP) == ["Van de huisarts"]


def test_delivery_filter(app, make_listing):
    make_listing("Wordt gebracht", delivery_possible=True)
    make_listing("Zelf ophalen", delivery_possible=False)

    assert titles(delivery_only=True) == ["Wordt gebracht"]
    assert sorted(titles(delivery_only=False)) == ["Wordt gebracht", "Zelf ophalen"]


def test_posted_within_days_uses_the_publication_time(app, make_listing):
    make_listing("Vandaag")
    old = make_listing("Vorige maand")
    old.published_at = utcnow() - timedelta(days=20)
    db.session.commit()

    assert titles(posted_within_days=7) == ["Vandaag"]
    assert sorted(titles(posted_within_days=30)) == ["Vandaag", "Vorige maand"]


def test_filters_combine_with_words(app, make_listing, make_org):
    gp = make_org(kind=OrganisationKind.GP)
    make_listing("Rolstoel", organisation=gp, category="mobility", condition=Condition.NEW,
                 delivery_possible=True)
    make_listing("Rolstoel oud", organisation=gp, category="mobility", condition=Condition.FAIR,
                 delivery_possible=True)
    make_listing("Rolstoel ziekenhuis", category="mobility", condition=Condition.NEW,
                 delivery_possible=True)
    make_listing("Rolstoel afhalen", organisation=gp, category="mobility",
                 condition=Condition.NEW)
    make_listing("Bureaustoel", organisation=gp, condition=Condition.NEW, delivery_possible=True)

    assert titles(text="rolstoel", category_id=category_id("medical-aids"),
                  condition=Condition.NEW, organisation_kind=OrganisationKind.GP,
                  delivery_only=True, province=Province.UTRECHT,
                  posted_within_days=1) == ["Rolstoel"]


# --- sorting ---------------------------------------------------------------------------------

def _aged(listing, hours: int):
    listing.published_at = utcnow() - timedelta(hours=hours)
    db.session.commit()
    return listing


def test_newest_first_by_publication_time(app, make_listing):
    _aged(make_listing("Oud"), 48)
    _aged(make_listing("Nieuw"), 1)
    _aged(make_listing("Midden"), 24)

    assert titles() == ["Nieuw", "Midden", "Oud"]
    assert titles(sort=Sort.NEWEST, text="   ") == ["Nieuw", "Midden", "Oud"]


def test_expiring_soonest_first(app, make_listing):
    today = date.today()
    make_listing("Volgende maand", available_until=today + timedelta(days=30))
    make_listing("Vandaag nog", available_until=today)
    make_listing("Volgende week", available_until=today + timedelta(days=7))

    assert titles(sort=Sort.EXPIRING) == ["Vandaag nog", "Volgende week", "Volgende maand"]


def test_relevance_puts_title_matches_first(app, make_listing):
    for number in range(3):
        make_listing(f"Kast {number}", description="Grijs.")
    _aged(make_listing("Rolstoel", description="Opvouwbaar."), 48)
    _aged(make_listing("Tafel", description="Past onder een rolstoel."), 1)

    ranked = find(text="rolstoel", sort=Sort.RELEVANCE)
    assert [listing.title for listing in ranked.listings] == ["Rolstoel", "Tafel"]
    assert ranked.sorted_by is Sort.RELEVANCE
    assert titles(text="rolstoel", sort=Sort.NEWEST) == ["Tafel", "Rolstoel"]


def test_relevance_without_words_falls_back_to_newest(app, make_listing):
    _aged(make_listing("Oud"), 48)
    _aged(make_listing("Nieuw"), 1)

    assert SearchQuery(sort=Sort.RELEVANCE).effective_sort is Sort.NEWEST
    assert titles(sort=Sort.RELEVANCE) == ["Nieuw", "Oud"]


# --- who sees what ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [status for status in ListingStatus
                                    if status is not ListingStatus.PUBLISHED])
def test_only_published_listings_are_found(app, make_listing, make_user, status):
    listing = make_listing("Bureaustoel", status=status)
    own_member = make_user(organisation=listing.organisation)
    admin = make_user(role=Role.PLATFORM_ADMIN)

    for viewer in (None, own_member, admin):
        assert titles(viewer, text="bureaustoel") == []


def test_listings_past_their_available_until_date_are_not_found(app, make_listing):
    make_listing("Tot gisteren", available_until=date.today() - timedelta(days=1))
    make_listing("Tot vandaag", available_until=date.today())

    assert titles() == ["Tot vandaag"]


@pytest.mark.parametrize("status", [OrganisationStatus.SUSPENDED, OrganisationStatus.PENDING])
def test_listings_of_inactive_organisations_are_not_found(app, make_listing, make_org,
                                                          make_user, status):
    organisation = make_org()
    make_listing("Bureaustoel", organisation=organisation)
    member = make_user(organisation=organisation)
    organisation.status = status
    db.session.commit()

    assert titles() == []
    assert titles(member) == []


def test_internal_phase_hides_a_listing_from_other_organisations(app, make_listing, make_org,
                                                                make_user):
    organisation = make_org()
    make_listing("Eerst intern", organisation=organisation,
                 internal_until=utcnow() + timedelta(days=3))
    make_listing("Voor iedereen")
    own_member = make_user(organisation=organisation)
    outsider = make_user()
    admin = make_user(role=Role.PLATFORM_ADMIN)

    assert titles(None) == ["Voor iedereen"]
    assert titles(AnonymousUserMixin()) == ["Voor iedereen"]
    assert titles(outsider) == ["Voor iedereen"]
    assert sorted(titles(own_member)) == ["Eerst intern", "Voor iedereen"]
    assert sorted(titles(admin)) == ["Eerst intern", "Voor iedereen"]
    later = search_listings(outsider, SearchQuery(), now=utcnow() + timedelta(days=4))
    assert sorted(listing.title for listing in later.listings) == ["Eerst intern",
                                                                   "Voor iedereen"]


def test_listing_is_public_once_its_internal_phase_has_ended(app, make_listing, make_user):
    make_listing("Was intern", internal_until=utcnow() - timedelta(minutes=1))

    assert titles(None) == ["Was intern"]
    assert titles(make_user()) == ["Was intern"]


# --- pages -----------------------------------------------------------------------------------

def test_pages_split_the_results(app, make_listing):
    for hours in range(5):
        _aged(make_listing(f"Stoel {hours}"), hours)

    first = find(per_page=2)
    assert [listing.title for listing in first.listings] == ["Stoel 0", "Stoel 1"]
    assert (first.total, first.pages, first.has_prev, first.has_next) == (5, 3, False, True)
    last = find(per_page=2, page=3)
    assert [listing.title for listing in last.listings] == ["Stoel 4"]
    assert (last.total, last.pages, last.has_prev, last.has_next) == (5, 3, True, False)
    assert last.total_is_exact


def test_a_page_beyond_the_end_is_empty(app, make_listing):
    make_listing("Stoel")

    beyond = find(page=7)
    assert beyond.listings == []
    assert (beyond.total, beyond.pages, beyond.page, beyond.has_next) == (1, 1, 7, False)
    assert find(page=10**9).listings == []
    nothing = find(text="onvindbaar")
    assert (nothing.listings, nothing.total, nothing.pages) == ([], 0, 0)


def test_counting_stops_a_few_pages_ahead(app, make_listing, monkeypatch):
    monkeypatch.setattr(search_limits, "COUNT_LIMIT", 3)
    monkeypatch.setattr(search_limits, "PAGES_AHEAD", 1)
    for hours in range(7):
        _aged(make_listing(f"Stoel {hours}"), hours)

    first = find(per_page=2)
    assert (first.total, first.total_is_exact, first.pages, first.has_next) == (4, False, 2, True)
    second = find(per_page=2, page=2)
    assert [listing.title for listing in second.listings] == ["Stoel 2", "Stoel 3"]
    assert (second.total, second.total_is_exact, second.pages) == (6, False, 3)
    third = find(per_page=2, page=3)
    assert (third.total, third.total_is_exact, third.pages) == (7, True, 4)


@pytest.mark.parametrize("deep_page", [10**6, 0], ids=["read from the first", "read from the page"])
def test_a_deep_page_shows_what_reading_from_the_first_shows(app, make_listing, monkeypatch,
                                                             deep_page):
    """Pages past DEEP_PAGE matches are read from their own first match (SQL OFFSET): the
    same listings, count and pager, also past the last page."""
    monkeypatch.setattr(search_limits, "DEEP_PAGE", deep_page)
    monkeypatch.setattr(search_limits, "COUNT_LIMIT", 3)
    monkeypatch.setattr(search_limits, "PAGES_AHEAD", 1)
    for hours in range(9):
        _aged(make_listing(f"Stoel {hours}"), hours)

    shown = [(page.total, page.total_is_exact, page.pages, page.has_next,
              [listing.title for listing in page.listings])
             for page in (find(per_page=2, page=number) for number in (1, 2, 3, 4, 5, 6, 9))]
    assert shown == [(4, False, 2, True, ["Stoel 0", "Stoel 1"]),
                     (6, False, 3, True, ["Stoel 2", "Stoel 3"]),
                     (8, False, 4, True, ["Stoel 4", "Stoel 5"]),
                     (9, True, 5, True, ["Stoel 6", "Stoel 7"]),
                     (9, True, 5, False, ["Stoel 8"]),
                     (9, True, 5, False, []),
                     (9, True, 5, False, [])]


def test_pages_past_the_maximum_are_empty(app, make_listing, monkeypatch):
    monkeypatch.setattr(search_limits, "MAX_RESULTS", 4)
    for hours in range(5):
        _aged(make_listing(f"Stoel {hours}"), hours)

    assert [listing.title for listing in find(per_page=2, page=2).listings] == [
        "Stoel 2", "Stoel 3"]
    assert find(per_page=2, page=2).pages == 2
    beyond = find(per_page=2, page=3)
    assert (beyond.listings, beyond.total) == ([], 5)


def test_results_come_with_what_a_card_needs(app, make_listing, queries):
    for number in range(3):
        listing = make_listing(f"Stoel {number}")
        photo = Photo(content_hash=f"{number:064d}", width=10, height=10, byte_size=100)
        listing.photos.append(ListingPhoto(photo=photo, position=0, alt_text="Foto"))
    db.session.commit()
    db.session.expire_all()
    queries.clear()

    results = find(text="stoel")
    during_search = len(queries)
    cards = [(listing.organisation.name, listing.site.city, listing.category.slug,
              listing.cover.photo.width) for listing in results.listings]

    assert len(cards) == 3
    assert len(queries) == during_search
    # The words' terms (the categories' names, the word's synonyms), the matches, the cards.
    assert during_search <= 7


def test_words_in_too_many_listings_are_not_ranked(app, make_listing, monkeypatch):
    _aged(make_listing("Tafel", description="Past onder een rolstoel."), 1)
    _aged(make_listing("Rolstoel", description="Opvouwbaar."), 2)
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 1)

    results = find(text="rolstoel", sort=Sort.RELEVANCE)
    assert results.sorted_by is Sort.NEWEST
    assert [listing.title for listing in results.listings] == ["Tafel", "Rolstoel"]
    assert find(text="rolstoel", sort=Sort.EXPIRING).sorted_by is Sort.EXPIRING


def test_words_each_in_too_many_listings_but_together_in_few_are_ranked(app, make_listing,
                                                                        monkeypatch):
    """`stoel elektrische`: each word in more listings than are ranked, both in few. Those
    are ranked: the whole word before the part of a word, though newer."""
    for number in range(20):
        make_listing(f"Tafel {number}")
    for number in range(4):
        make_listing(f"Douchestoel {number}")
        make_listing(f"Elektrisch bed {number}")
    _aged(make_listing("Elektrische stoel"), 48)
    _aged(make_listing("Elektrische douchestoel"), 1)
    monkeypatch.setattr(search_limits, "RANK_LIMIT", 3)
    monkeypatch.setattr(search_limits, "DRIVE_LIMIT", 3)

    results = find(text="stoel elektrische", sort=Sort.RELEVANCE)
    assert results.sorted_by is Sort.RELEVANCE
    assert [listing.title for listing in results.listings] == [
        "Elektrische stoel", "Elektrische douchestoel"]
    assert titles(text="stoel elektrische") == ["Elektrische douchestoel", "Elektrische stoel"]

    for number in range(2):
        make_listing(f"Elektrische bureaustoel {number}")
    assert find(text="stoel elektrische", sort=Sort.RELEVANCE).sorted_by is Sort.NEWEST


# --- the index follows the listings ----------------------------------------------------------

def test_changing_a_title_updates_the_index(app, make_listing):
    listing = make_listing("Bureaustoel", description="Zwart.")
    listing.title = "Vergadertafel"
    db.session.commit()

    assert titles(text="vergadertafel") == ["Vergadertafel"]
    assert titles(text="bureaustoel") == []
    listing.description = "Eikenhout."
    db.session.commit()
    assert titles(text="eikenhout") == ["Vergadertafel"]
    assert titles(text="zwart") == []


def test_a_deleted_listing_leaves_the_index(app, make_listing):
    listing = make_listing("Bureaustoel")
    make_listing("Bureaustoel twee")
    db.session.delete(listing)
    db.session.commit()

    assert titles(text="bureaustoel") == ["Bureaustoel twee"]


def test_other_changes_keep_the_listing_findable(app, make_listing):
    listing = make_listing("Bureaustoel")
    listing.quantity_available = 1
    listing.status = ListingStatus.PUBLISHED
    db.session.commit()

    assert titles(text="bureaustoel") == ["Bureaustoel"]


@sqlite_only
def test_sqlite_index_stays_consistent_with_the_listings(app, make_listing):
    listing = make_listing("Bureaustoel", description="Zwart.")
    make_listing("Kast")
    listing.title, listing.description = "Vergadertafel", "Eikenhout."
    db.session.commit()
    db.session.delete(listing)
    db.session.commit()

    # FTS5 checks its index against the listing table; it raises if they differ.
    db.session.execute(text("INSERT INTO listing_fts(listing_fts, rank) "
                            "VALUES ('integrity-check', 1)"))


def test_drop_all_and_create_all_rebuild_the_index(app, make_listing):
    db.session.remove()
    db.drop_all()
    db.create_all()
    ensure_default_categories()
    make_listing("Bureaustoel")

    assert titles(text="bureaustoel") == ["Bureaustoel"]


# --- URL parameters --------------------------------------------------------------------------

def test_from_args_reads_every_parameter(app):
    query = SearchQuery.from_args({
        "q": "  rolstoel   opvouwbaar ", "category": "3", "condition": "as_new",
        "province": "limburg", "kind": "gp", "delivery": "1", "days": "7",
        "sort": "relevance", "page": "2",
    })

    assert query == SearchQuery(
        text="rolstoel opvouwbaar", category_id=3, condition=Condition.AS_NEW,
        province=Province.LIMBURG, organisation_kind=OrganisationKind.GP, delivery_only=True,
        posted_within_days=7, sort=Sort.RELEVANCE, page=2)


@pytest.mark.parametrize("args", [
    {"page": "-1"}, {"page": "abc"}, {"page": "0"}, {"page": "1.5"}, {"page": "9" * 40},
    {"category": "xyz"}, {"category": "-3"}, {"category": ""}, {"condition": "unknown"},
    {"province": "Bretagne"}, {"kind": "GP "}, {"delivery": "maybe"}, {"days": "999999999"},
    {"days": "0"}, {"days": "-7"}, {"sort": "cheapest"}, {"q": ""}, {"unknown": "x"},
])
def test_from_args_ignores_garbage(args):
    assert SearchQuery.from_args(args) == SearchQuery()


def test_to_args_leaves_out_defaults_and_round_trips():
    query = SearchQuery(text="rolstoel", category_id=3, condition=Condition.NEW,
                        province=Province.UTRECHT, organisation_kind=OrganisationKind.HOSPITAL,
                        delivery_only=True, posted_within_days=30, sort=Sort.EXPIRING, page=4)

    assert SearchQuery().to_args() == {}
    assert SearchQuery.from_args(query.to_args()) == query
    assert query.to_args(page=1) == {
        "q": "rolstoel", "category": "3", "condition": "new", "province": "utrecht",
        "kind": "hospital", "delivery": "1", "days": "30", "sort": "expiring"}
    assert SearchQuery.from_args(query.to_args(category_id=None, page=1)) == SearchQuery(
        text="rolstoel", condition=Condition.NEW, province=Province.UTRECHT,
        organisation_kind=OrganisationKind.HOSPITAL, delivery_only=True,
        posted_within_days=30, sort=Sort.EXPIRING)


@postgres_only
def test_searches_are_planned_for_their_own_words(app, make_listing):
    """psycopg prepares a statement it runs five times on a connection, and PostgreSQL then
    plans it once for any words: a rare word's search walked every listing (200 ms at 100,000
    listings, bench/README.md). So no search is prepared (only the small statements that ask,
    extensions.prepared)."""
    make_listing("Zuurstofconcentrator")
    for _ in range(8):
        assert titles(text="zuurstofconcentrator") == ["Zuurstofconcentrator"]
    assert db.session.scalars(text(
        "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%@@%'")).all() == []


SQLITE_PLANS = {
    "the sort's index": {"_filter_to_drive": lambda *args: None, "_WORD_MATCH_COST": 10**9},
    "the category's index": {"_filter_to_drive": lambda query, *args:
                             "category_id" if query.category_id else None},
    "the province's sites' index": {"_filter_to_drive": lambda query, *args:
                                    "site_id" if query.province else None},
    "the words' matches": {"_WORD_MATCH_COST": 0},
}
POSTGRES_PLANS = {
    "the sort's index": {"_POSTGRES_MATCH_COST": 10**9},
    "the words' matches": {"_POSTGRES_MATCH_COST": 0, "_POSTGRES_FEW_MATCHES": -1},
}


def test_every_plan_finds_the_same_listings_in_the_same_order(app, make_listing, make_org,
                                                              monkeypatch):
    """The app chooses how a search reads the listings (services/search/plan.py): on SQLite by
    its sort's index, by a filter's index or by the words' matches, on PostgreSQL whether the
    words' matches are read first. Whatever it chooses, the results are the same."""
    plans = POSTGRES_PLANS if on_postgres() else SQLITE_PLANS
    planner = postgres_plan if on_postgres() else sqlite_plan
    rng = random.Random(4)
    organisations = [make_org() for _ in range(3)]
    organisations[0].sites[0].province = Province.LIMBURG
    db.session.commit()
    for number in range(40):
        listing = make_listing(
            f"{rng.choice(['Rolstoel', 'Rollator', 'Bed', 'Kast'])} {number}",
            organisation=rng.choice(organisations),
            category=rng.choice(["mobility", "lifting", "furniture", "office-furniture"]),
            condition=rng.choice(list(Condition)), delivery_possible=rng.random() < 0.5,
            available_until=date.today() + timedelta(days=rng.randrange(1, 90)))
        listing.published_at = utcnow() - timedelta(hours=rng.randrange(1, 500))
    db.session.commit()
    queries = [SearchQuery(text=text, category_id=category, province=province, condition=condition,
                           delivery_only=delivery, sort=sort, per_page=5, page=page)
               for text in ["", "rolstoel", "bed"]
               for category in [None, category_id("medical-aids")]
               for province in [None, Province.LIMBURG]
               for condition, delivery in [(None, False), (Condition.GOOD, True)]
               for sort in [Sort.NEWEST, Sort.EXPIRING, Sort.RELEVANCE]
               for page in [1, 2]]
    found = {}
    for plan, replacements in plans.items():
        with monkeypatch.context() as patch:
            for name, value in replacements.items():
                patch.setattr(planner, name, value)
            found[plan] = [[card.id for card in search_listings(None, query).listings]
                           for query in queries]
    assert any(found["the sort's index"]), "the listings match some queries"
    for plan in plans:
        assert found[plan] == found["the sort's index"], plan
