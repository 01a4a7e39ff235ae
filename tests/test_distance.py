"""Distance: sites placed by the offline gazetteer, "within N km" and "nearest first" in the
search, the distance on the cards, and alerts with a radius."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from helpers import on_postgres, reload
from sqlalchemy import event, func, select, text
from test_migrations import empty_database_url  # noqa: F401  (a fixture)

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertMatch,
    Language,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Role,
)
from marketplace.models.base import utcnow
from marketplace.services import alerts as alert_service
from marketplace.services import organisations, places
from marketplace.services.organisations import SiteDetails
from marketplace.services.search import (
    Origin,
    SearchQuery,
    Sort,
    finding,
    search_listings,
    with_origin,
)
from marketplace.services.search import limits as search_limits
from marketplace.services.search.distance import km_between

UTRECHT = (52.09083, 5.12222)


@pytest.mark.parametrize(("city", "province", "expected"), [
    ("Utrecht", "utrecht", UTRECHT),
    ("'s-Hertogenbosch", "noord_brabant", (51.69917, 5.30417)),
    ("Den Bosch", "noord_brabant", (51.69917, 5.30417)),  # an alternate name the data carries
    ("S HERTOGENBOSCH", "noord_brabant", (51.69917, 5.30417)),  # case and punctuation
    ("Den Haag", "zuid_holland", (52.07667, 4.29861)),  # GeoNames' name is "The Hague"
    ("'t Zand", "noord_holland", (52.83667, 4.75556)),
    ("Feanwâlden", "friesland", (53.23558, 5.98832)),
    ("Tweede Exloermond", "drenthe", (52.90917, 6.93333)),  # "Exloërmond": the accent folded
    ("Aldlan-Oost", "friesland", (53.1886, 5.82825)),  # "Aldlân-Oost"
    ("Sint Odiliënberg", "limburg", (51.14333, 6.0)),
    ("Hengelo", "gelderland", (52.05083, 6.30972)),  # two Hengelos: the province tells
    ("Hengelo", "overijssel", (52.26583, 6.79306)),
    ("Zwolle", "utrecht", (52.5125, 6.09444)),  # one Zwolle: the name is more often right
])
def test_the_gazetteer_finds_dutch_places(city, province, expected):
    assert places.locate("1234 AB", city, province) == expected


@pytest.mark.parametrize(("city", "province"), [
    ("Nergenshuizen", "utrecht"),  # no such place
    ("Hengelo", "utrecht"),  # two elsewhere, neither in the province: which one is not known
    ("", "utrecht"),
    ("Paris", "noord_holland"),  # only Dutch places are kept
])
def test_an_unknown_place_has_no_coordinates(city, province):
    assert places.locate("1234 AB", city, province) is None


def test_the_gazetteer_keeps_only_the_dutch_places():
    kept = places._gazetteer()
    assert 1_900 <= len({place for found in kept.values() for place in found
                         if place.by_main_name}) <= 2_100
    assert {place.province_code for found in kept.values() for place in found} == \
        set(places.PROVINCE_CODES.values())


# --- sites ---------------------------------------------------------------------------------

def details(city: str, province: str = "utrecht", name: str = "Hoofdlocatie") -> SiteDetails:
    return SiteDetails(name=name, street="Zorgweg 1", postcode="1234 AB", city=city,
                       province=province)


def organisation_in(city: str, province: str, name: str) -> Organisation:
    organisation = organisations.new_organisation(name, OrganisationKind.HOSPITAL,
                                                  details(city, province, f"Locatie {city}"),
                                                  status=OrganisationStatus.ACTIVE)
    db.session.commit()
    return organisation


def test_sites_get_coordinates_when_added_and_edited(app, make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN, language=Language.NL)
    organisation = admin.organisation
    site = organisations.add_site(admin, organisation, details("Amersfoort", name="Oost"))
    assert (round(site.latitude, 2), round(site.longitude, 2)) == (52.16, 5.39)
    organisations.update_site(admin, site, details("Nergenshuizen", name="Oost"))
    assert reload(site).latitude is None and site.longitude is None
    page = login_as(admin).get(f"/organisations/{organisation.id}/sites")
    assert "We konden deze plaats niet vinden" in page.get_data(as_text=True)
    form = login_as(admin).get(f"/organisations/{organisation.id}/sites/{site.id}/edit")
    assert "afstanden vanaf deze locatie kunnen we niet tonen" in form.get_data(as_text=True)
    organisations.update_site(admin, site, details("Den Bosch", "noord_brabant", name="Oost"))
    assert reload(site).latitude == pytest.approx(51.69917)


# --- searching ------------------------------------------------------------------------------

@pytest.fixture
def world(app, make_user, make_listing):
    """A member in Utrecht; listings in Utrecht, Zeist (8 km), Amersfoort (19 km), Amsterdam
    (35 km), Groningen (145 km) and in a place the gazetteer does not know."""
    home = organisation_in("Utrecht", "utrecht", "Zorg Utrecht")
    member = make_user(organisation=home, language=Language.NL)
    listings = {"Utrecht": make_listing("Stoel Utrecht", organisation=home)}
    for city, province in [("Zeist", "utrecht"), ("Amersfoort", "utrecht"),
                           ("Amsterdam", "noord_holland"), ("Groningen", "groningen"),
                           ("Nergenshuizen", "utrecht")]:
        listings[city] = make_listing(f"Stoel {city}",
                                      organisation=organisation_in(city, province, f"Zorg {city}"))
    return member, home, listings


def titles(viewer, query: SearchQuery) -> list[str]:
    results = search_listings(viewer, with_origin(viewer, query))
    return [card.title for card in results.listings]


def test_within_km_of_a_site_finds_only_the_listings_that_close(world):
    member, _home, _listings = world
    assert sorted(titles(member, SearchQuery(within_km=25))) == \
        ["Stoel Amersfoort", "Stoel Utrecht", "Stoel Zeist"]
    assert titles(member, SearchQuery(within_km=5)) == ["Stoel Utrecht"]
    assert sorted(titles(member, SearchQuery(text="stoel", within_km=10))) == \
        ["Stoel Utrecht", "Stoel Zeist"]
    assert len(titles(member, SearchQuery())) == 6  # without a radius, every listing


def test_nearest_first_orders_by_distance_and_unknown_places_last(world, monkeypatch):
    member, _home, _listings = world
    expected = ["Stoel Utrecht", "Stoel Zeist", "Stoel Amersfoort", "Stoel Amsterdam",
                "Stoel Groningen", "Stoel Nergenshuizen"]
    assert titles(member, SearchQuery(sort=Sort.NEAREST)) == expected
    assert titles(member, SearchQuery(text="stoel", sort=Sort.NEAREST)) == expected
    assert titles(member, SearchQuery(sort=Sort.NEAREST, within_km=50)) == expected[:4]
    # Read ring by ring: with two ids read a page, each page must still be the nearest.
    monkeypatch.setattr(search_limits, "COUNT_LIMIT", 1)
    monkeypatch.setattr(search_limits, "PAGES_AHEAD", 0)
    pages = [titles(member, SearchQuery(sort=Sort.NEAREST, per_page=1, page=page))
             for page in range(1, 7)]
    assert pages == [[title] for title in expected]


@pytest.mark.parametrize("words", ["", "stoel"])
def test_words_found_seldom_in_the_first_ring_are_read_everywhere_at_once(world, monkeypatch,
                                                                          words):
    """Nearest first reads a wider ring where the first held too few; but words found four
    times fewer than needed are read everywhere at once and sorted by distance (a wider ring
    would test every listing of its sites for them): the same order either way."""
    member, _home, _listings = world
    monkeypatch.setattr(search_limits, "COUNT_LIMIT", 29)  # 30 read: 2 within the first 10 km
    monkeypatch.setattr(search_limits, "PAGES_AHEAD", 0)
    rings: list[int | None] = []
    next_ring = finding.next_ring
    monkeypatch.setattr(finding, "next_ring",
                        lambda *args: rings.append(next_ring(*args)) or rings[-1])

    assert titles(member, SearchQuery(text=words, sort=Sort.NEAREST)) == [
        "Stoel Utrecht", "Stoel Zeist", "Stoel Amersfoort", "Stoel Amsterdam",
        "Stoel Groningen", "Stoel Nergenshuizen"]
    assert (rings[0] is None) == bool(words)  # without words a 51 km ring came next


def test_nearest_first_without_an_origin_is_newest_first(world, make_user):
    _member, _home, listings = world
    newest_first = [listing.title for listing in sorted(
        listings.values(), key=lambda listing: (listing.published_at, listing.id),
        reverse=True)]
    assert titles(None, SearchQuery(sort=Sort.NEAREST, within_km=5)) == newest_first


def test_the_cards_show_the_distance_in_dutch_and_english(world, login_as):
    member, _home, _listings = world
    dutch = login_as(member).get("/listings/?sort=nearest").get_data(as_text=True)
    assert "&lt; 1 km van Locatie Utrecht" in dutch
    assert "19 km van Locatie Utrecht" in dutch  # Amersfoort
    assert "Dichtstbij eerst" in dutch and "Afstand vanaf" in dutch
    assert dutch.index("Stoel Zeist") < dutch.index("Stoel Amersfoort") \
        < dutch.index("Stoel Groningen")
    member.language = Language.EN
    db.session.commit()
    english = login_as(member).get("/listings/?km=10").get_data(as_text=True)
    assert "8 km from Locatie Utrecht" in english  # Zeist
    assert "Within 10 km of Locatie Utrecht" in english  # the filter's chip
    assert "Stoel Amersfoort" not in english


def test_a_visitor_sees_no_distance(world, client):
    _member, home, _listings = world
    page = client.get(f"/listings/?near={home.sites[0].id}&km=5&sort=nearest")
    html = page.get_data(as_text=True)
    assert "Locatie Utrecht" not in html and "Stoel Groningen" in html  # no filter applied


def test_a_site_of_another_organisation_is_ignored(world, login_as):
    member, home, listings = world
    groningen = listings["Groningen"].organisation.sites[0]
    query = with_origin(member, SearchQuery(near=groningen.id, within_km=5))
    assert query.origin is not None and query.origin.site_id == home.sites[0].id
    page = login_as(member).get(f"/listings/?near={groningen.id}&km=5")
    html = page.get_data(as_text=True)
    assert "Locatie Groningen" not in html
    assert "Stoel Utrecht" in html and "Stoel Groningen" not in html  # from their own site


def test_a_member_chooses_among_their_own_sites(world, make_user, login_as):
    member, home, _listings = world
    admin = make_user(organisation=home, role=Role.ORG_ADMIN)
    second = organisations.add_site(admin, home, details("Groningen", "groningen", "Noord"))
    page = login_as(member).get(f"/listings/?near={second.id}&km=5&sort=nearest")
    html = page.get_data(as_text=True)
    assert f'<option value="{second.id}" selected>Noord</option>' in html
    assert "Stoel Groningen" in html and "Stoel Utrecht" not in html


def test_distances_are_measured_from_the_first_site_still_active(world, make_user, login_as):
    """The default origin is read with the member on every request (services/session_user.py):
    a site closed since the last page is no longer measured from."""
    member, home, _listings = world
    admin = make_user(organisation=home, role=Role.ORG_ADMIN)
    organisations.add_site(admin, home, details("Groningen", "groningen", "Noord"))
    client = login_as(member)
    html = client.get("/listings/?km=5").get_data(as_text=True)
    assert "Stoel Utrecht" in html and "Stoel Groningen" not in html
    organisations.set_site_active(admin, home.sites[0], False)
    db.session.commit()
    html = client.get("/listings/?km=5").get_data(as_text=True)
    assert "Afstand vanaf: <strong>Noord</strong>" in html  # the one site left: no choice
    assert "Stoel Groningen" in html and "Stoel Utrecht" not in html


def test_a_site_whose_place_is_unknown_says_so_and_the_search_works(app, make_user,
                                                                     login_as, make_listing):
    home = organisation_in("Nergenshuizen", "utrecht", "Zorg Nergens")
    member = make_user(organisation=home, language=Language.NL)
    make_listing("Kast", organisation=organisation_in("Utrecht", "utrecht", "Zorg Utrecht"))
    html = login_as(member).get("/listings/?km=10&sort=nearest").get_data(as_text=True)
    assert "We konden niet vinden waar Locatie Nergenshuizen ligt" in html
    assert "Kast" in html and " km van " not in html


# --- alerts ---------------------------------------------------------------------------------

def test_an_alert_saved_with_a_radius_keeps_its_site_and_matches_only_inside(
        world, login_as, make_listing):
    member, home, listings = world
    groningen = listings["Groningen"].organisation.sites[0]
    client = login_as(member)
    response = client.post("/alerts/", data={"q": "kast", "near": str(groningen.id),
                                             "km": "25", "frequency": "instant"})
    assert response.status_code == 302
    alert = db.session.scalar(select(Alert))
    # Another organisation's site is not kept: the member's own is.
    assert (alert.near_site_id, alert.within_km) == (home.sites[0].id, 25)
    assert "binnen 25 km van Locatie Utrecht" in client.get("/alerts/").get_data(as_text=True)
    inside = make_listing("Kast", organisation=listings["Amersfoort"].organisation,
                          status=ListingStatus.DRAFT)
    outside = make_listing("Kast", organisation=listings["Amsterdam"].organisation,
                           status=ListingStatus.DRAFT)
    unknown = make_listing("Kast", organisation=listings["Nergenshuizen"].organisation,
                           status=ListingStatus.DRAFT)
    assert [_publish(inside), _publish(outside), _publish(unknown)] == [1, 0, 0]


def test_an_alert_whose_site_is_gone_matches_without_its_radius(world, make_listing):
    member, home, listings = world
    alert = Alert(user=member, words="kast", near_site_id=home.sites[0].id, within_km=5)
    db.session.add(alert)
    db.session.commit()
    far = make_listing("Kast", organisation=listings["Groningen"].organisation,
                       status=ListingStatus.DRAFT)
    assert _publish(far) == 0
    alert.near_site_id = None  # as ON DELETE SET NULL leaves it
    db.session.commit()
    again = make_listing("Kast", organisation=listings["Groningen"].organisation,
                         status=ListingStatus.DRAFT)
    assert _publish(again) == 1
    assert alert_service.alert_query(alert).within_km is None


def test_an_alert_from_a_site_whose_place_is_unknown_matches_without_its_radius(
        world, make_user, make_listing):
    _member, _home, listings = world
    nowhere = listings["Nergenshuizen"].organisation
    alert = Alert(user=make_user(organisation=nowhere), words="kast",
                  near_site_id=nowhere.sites[0].id, within_km=5)
    db.session.add(alert)
    db.session.commit()
    far = make_listing("Kast", organisation=listings["Groningen"].organisation,
                       status=ListingStatus.DRAFT)
    assert _publish(far) == 1  # as its search does: no distance filter it cannot apply


def _publish(listing) -> int:
    from marketplace.services import announcements

    listing.status = ListingStatus.PUBLISHED
    listing.published_at = utcnow()
    db.session.commit()
    announcements.announce(reload(listing))
    db.session.commit()
    return db.session.scalar(select(func.count(AlertMatch.id))
                             .where(AlertMatch.listing_id == listing.id))


# --- migration ------------------------------------------------------------------------------

def test_the_migration_places_existing_sites(make_app, empty_database_url):  # noqa: F811
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0016")
        db.session.execute(text(
            "INSERT INTO organisation (name, name_key, kind, status, trusted, created_at) "
            "VALUES ('Zorg', 'zorg', 'hospital', 'active', false, CURRENT_TIMESTAMP)"))
        for city in ("'s-Hertogenbosch", "Nergenshuizen"):
            db.session.execute(text(
                "INSERT INTO site (organisation_id, name, street, postcode, city, province, "
                "active, created_at) SELECT id, :city, 'Weg 1', '1234 AB', :city, "
                "'noord_brabant', true, CURRENT_TIMESTAMP FROM organisation"), {"city": city})
        db.session.commit()
        upgrade(revision="0017")
        rows = dict(db.session.execute(text("SELECT city, latitude FROM site")).all())
        assert rows == {"'s-Hertogenbosch": pytest.approx(51.69917), "Nergenshuizen": None}
        db.session.remove()
        db.engine.dispose()


def test_distances_are_within_a_percent_of_the_great_circle():
    from math import asin, cos, radians, sin, sqrt

    def haversine(a, b):
        (lat1, lon1), (lat2, lon2) = (map(radians, a), map(radians, b))
        h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
        return 2 * 6371.0 * asin(sqrt(h))

    origin = Origin(1, "Utrecht", *UTRECHT)
    for point in [(52.37403, 4.88969), (53.21917, 6.56667), (50.84833, 5.68889)]:
        assert km_between(origin, *point) == pytest.approx(haversine(UTRECHT, point), rel=0.01)



def test_a_radius_holding_few_listings_is_read_through_the_sites_index(world):
    """SQLite reads the sort's index in order unless told otherwise (sqlite_plan): for a small
    radius that read nearly every listing (60 ms at 100,000)."""
    if on_postgres():
        pytest.skip("PostgreSQL's planner chooses by its statistics")
    member, _home, _listings = world
    statements: list[str] = []
    record = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert titles(member, SearchQuery(within_km=5)) == ["Stoel Utrecht"]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    [found] = [statement for statement in statements
               if statement.startswith("SELECT listing.id, listing.published_at")]
    assert "AND listing.site_id IN" in found and "+ listing.site_id" not in found
