"""Finding Dutch words (issue 18): stems, part of a word, synonyms and category names in both
languages, the same on SQLite and PostgreSQL; and alerts and wanted posts matching exactly what
the search finds."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertMatch,
    Category,
    Listing,
    ListingStatus,
    Role,
    Wanted,
    WantedAnswer,
)
from marketplace.models.base import utcnow
from marketplace.services import alerts as alert_service
from marketplace.services.moderation import approve_listing
from marketplace.services.search import (
    SearchQuery,
    Sort,
    find_listings,
    search_listings,
    visibility_of,
)


def titles(text: str, sort: Sort = Sort.NEWEST, viewer=None) -> list[str]:
    return [listing.title for listing in search_listings(
        viewer, SearchQuery(text=text, sort=sort, per_page=100)).listings]


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


# --- the queries of the issue, on the demo data -----------------------------------------------

@pytest.mark.parametrize(("typed", "listing"), [
    ("stoel", "Douchestoelen"),
    ("stoelen", "Douchestoelen"),
    ("bedden", "Elektrische hoog-laagbedden"),
    ("hoog", "Elektrische hoog-laagbedden"),
    ("laagbedden", "Elektrische hoog-laagbedden"),
    ("kast", "Kantoorkasten met slot"),
    ("gloves", "Nitrile handschoenen maat M"),
    ("rolstoel", "Wheelchairs, self-propelled"),
    ("rollator", "Rollators, inklapbaar"),
    ("wheelchair", "Wheelchairs, self-propelled"),
])
def test_the_issues_queries_find_their_demo_listings(demo, typed, listing):
    assert listing in titles(typed)


def test_whole_words_and_stems_come_before_part_of_a_word(app, make_listing):
    make_listing("Douchestoelen met rugleuning")
    make_listing("Stoel voor de balie")
    make_listing("Stoelen, stapelbaar")

    ranked = titles("stoelen", sort=Sort.RELEVANCE)

    assert ranked[2] == "Douchestoelen met rugleuning"
    assert sorted(ranked[:2]) == ["Stoel voor de balie", "Stoelen, stapelbaar"]


def test_part_of_a_word_needs_four_characters(app, make_listing):
    make_listing("Kantoorkasten", description="Grijs.")
    make_listing("Bedrijfskleding", description="Maat L.")

    assert titles("kast") == ["Kantoorkasten"]
    assert titles("rijf") == ["Bedrijfskleding"]
    assert titles("dri") == []  # three letters: whole words and their starts only


def test_a_category_name_in_either_language_finds_its_listings(app, make_listing):
    make_listing("Apparaat X200", description="Werkt.", category="monitoring")
    make_listing("Tafel", description="Eiken.", category="furniture")

    assert titles("bewakingsapparatuur") == ["Apparaat X200"]
    assert titles("monitoring") == ["Apparaat X200"]
    # The parent's name finds the children's listings too.
    assert "Apparaat X200" in titles("hulpmiddelen")
    # A name's little words name nothing.
    assert titles("en") == []


def test_a_synonym_finds_what_the_word_finds_both_ways(app, make_listing):
    make_listing("Nitrile handschoenen", description="Maat M.", category="ppe")
    make_listing("Gloves, latex-free", description="Size L.", category="ppe")

    assert sorted(titles("gloves")) == ["Gloves, latex-free", "Nitrile handschoenen"]
    assert sorted(titles("handschoen")) == ["Gloves, latex-free", "Nitrile handschoenen"]


def test_all_words_must_match_each_in_any_way(app, make_listing):
    make_listing("Douchestoelen", description="Met rugleuning.", category="mobility")
    make_listing("Douchestoelen", description="Zonder leuning.", category="furniture")

    # "stoel" by part of a word, "rolstoelen" by the category's name, "rugleuning" by a word.
    assert len(titles("stoel rolstoelen rugleuning")) == 1
    assert titles("stoel rolstoelen zonder") == []


def test_typed_syntax_in_a_part_of_a_word_is_text(app, make_listing):
    make_listing("Kast eiken_hout", description="Stevig.")
    make_listing("Kast eikenshout", description="Stevig.")  # "_" as a wildcard would find it

    assert titles("eiken_hout") == ["Kast eiken_hout"]


def test_changing_a_title_changes_what_finds_it(app, make_listing):
    listing = make_listing("Rolstoelen", description="Twee.")
    listing.title = "Douchestoelen"
    db.session.commit()

    assert titles("douchestoel") == ["Douchestoelen"]
    assert titles("rolstoelen") == []


# --- one matcher: alerts and wanted posts find what the search finds ---------------------------

CORPUS = [
    ("Douchestoelen met rugleuning", "Vier stuks.", "mobility"),
    ("Rolstoelen, opvouwbaar", "Lichtgewicht.", "mobility"),
    ("Wheelchairs, self-propelled", "Seat width 45 cm.", "mobility"),
    ("Kantoorkasten met slot", "Roldeurkasten.", "office-furniture"),
    ("Elektrische hoog-laagbedden", "Zorgbedden met matras.", "care-beds"),
    ("Nitrile handschoenen maat M", "Dozen van 100.", "ppe"),
    ("Gloves, latex-free", "Size L.", "ppe"),
    ("Bureaustoel", "Verstelbaar.", "office-furniture"),
    ("Apparaat X200", "Bloeddrukmeter.", "monitoring"),
    ("Café-tafels", "Rond.", "furniture"),
]
QUERIES = ["stoel", "stoelen", "rolstoel", "gloves", "kast", "bedden", "hoog", "laag bed",
           "monitoring", "hulpmiddelen", "cafe", "wheelchairs", "rol", "met slot", "xyz"]


def test_an_alert_saved_from_a_search_matches_exactly_what_the_search_finds(
        app, make_user, make_listing):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    searcher = make_user()
    alerts = {text: alert_service.create_alert(searcher, SearchQuery(text=text))
              for text in QUERIES}
    db.session.commit()
    listings = [make_listing(title, description=description, category=category,
                             status=ListingStatus.PENDING_REVIEW)
                for title, description, category in CORPUS]
    db.session.commit()
    for listing in listings:
        approve_listing(admin, listing)  # announced: the alerts are matched
    db.session.commit()

    visibility = visibility_of(searcher)
    for text, alert in alerts.items():
        matched = set(db.session.scalars(select(AlertMatch.listing_id)
                                         .where(AlertMatch.alert_id == alert.id)))
        found = set(find_listings(visibility, alert_service.alert_query(alert), utcnow()).ids)
        assert matched == found, text
    assert sum(len(set(db.session.scalars(select(AlertMatch.listing_id).where(
        AlertMatch.alert_id == alert.id)))) for alert in alerts.values()) > len(QUERIES)


def test_a_wanted_post_is_told_of_a_listing_its_title_finds_by_part_of_a_word(
        app, make_user, make_listing):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    author = make_user()
    wanted = Wanted(organisation=author.organisation, author=author, title="Stoelen",
                    description="Voor de hal.", quantity=2,
                    needed_by=utcnow().date().replace(year=utcnow().year + 1))
    db.session.add(wanted)
    listing = make_listing("Douchestoelen", status=ListingStatus.PENDING_REVIEW)
    db.session.commit()

    approve_listing(admin, listing)
    db.session.commit()

    assert db.session.scalar(select(func.count(WantedAnswer.id)).where(
        WantedAnswer.wanted_id == wanted.id, WantedAnswer.listing_id == listing.id)) == 1


def test_the_index_follows_listings_that_go(app, make_listing):
    listing = make_listing("Douchestoelen", description="Weg.")
    db.session.delete(listing)
    db.session.commit()

    assert titles("stoel") == []
    assert db.session.scalar(select(func.count()).select_from(Listing)) == 0
    assert db.session.scalar(select(func.count()).select_from(Category)) > 0
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_words_from_the_search_box_show_the_best_match_first(app, client, make_listing):
    make_listing("Stoel voor de balie")
    make_listing("Douchestoelen met rugleuning")  # newer, found by part of a word only

    page = client.get("/listings/?q=stoel").get_data(as_text=True)

    assert page.index("Stoel voor de balie") < page.index("Douchestoelen met rugleuning")
    assert SearchQuery.from_args({"q": "stoel"}).sort is Sort.RELEVANCE
    assert SearchQuery.from_args({"q": "stoel"}).to_args() == {"q": "stoel"}
    assert SearchQuery.from_args({}).sort is Sort.NEWEST
    assert SearchQuery.from_args({"q": "stoel", "sort": "newest"}).to_args() == {
        "q": "stoel", "sort": "newest"}
