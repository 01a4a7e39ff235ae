"""The kept parts of the search and home pages (filter form, counts, cards, pager: page_cache.py)
are renewed when a model that declares it shows there changes (`@shown_on_cards`, models/base.py).
A table those parts read that no model declares would serve stale pages: this test builds the
parts for every filter, sort and kind of viewer, records which tables their SQL reads, and fails
for such a table, as tests/test_security_routes.py fails for a route missing from its table."""

from __future__ import annotations

import dataclasses
import enum
import re
from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin
from helpers import SHARED_TESTDATA
from sqlalchemy import event, inspect

from marketplace.extensions import db
from marketplace.listings import pages
from marketplace.models import (
    Condition,
    Listing,
    ListingPhoto,
    OrganisationKind,
    Province,
    Role,
    Unit,
)
from marketplace.models.base import card_sources, utcnow
from marketplace.services.organisations import SiteDetails, update_site
from marketplace.services.photos import prepare_photo, save_prepared
from marketplace.services.search import ListingCard, SearchQuery, Sort, searching_as, visibility_of
from marketplace.services.search.cards import (
    CardCategory,
    CardCover,
    CardOrganisation,
    CardPhoto,
    CardSite,
)
from marketplace.templating import listing_card

# Tables the kept parts read that need no declaration of their own, and why.
EXEMPT = {
    "listing_fts": "SQLite's full-text index of listings, kept in step with `listing` by "
                   "triggers: a change to its text is a change to the listing, which is watched",
    "listing_parts": "SQLite's trigram index of listings' titles, kept in step as listing_fts",
    "listing_fts_vocab": "SQLite's words of listing_fts for typo suggestions (fts5vocab), read "
                         "from that index itself: it changes with the listings",
    "listing_parts_words": "PostgreSQL's words of listings' titles, kept by triggers on "
                           "`listing`: it tells how to read the matches, never what they are",
}

QUERIES = [
    SearchQuery(),
    SearchQuery(text="rolstoel", sort=Sort.RELEVANCE),
    SearchQuery(text="rolstoel opvouwbaar", sort=Sort.EXPIRING, page=2),
    SearchQuery(condition=Condition.GOOD, province=Province.UTRECHT,
                organisation_kind=OrganisationKind.HOSPITAL, delivery_only=True,
                posted_within_days=7),
]


def tables_read(names: set[str], statements: list[str]) -> set[str]:
    """The tables of `names` that `statements` name (as a table, not as a column's name)."""
    return {name for name in names for statement in statements
            if re.search(rf'(?<![\w."])"?{re.escape(name)}"?(?![\w"])', statement)}


def test_every_table_the_kept_pages_read_is_watched_or_exempt(app, make_listing, make_user):
    listing = make_listing("Rolstoel opvouwbaar")
    make_listing("Rolstoel", organisation=listing.organisation, delivery_possible=True,
                 internal_until=utcnow() + timedelta(days=1))
    image = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"
    photo = save_prepared(prepare_photo(image.read_bytes(), image.name))
    listing.photos.append(ListingPhoto(photo=photo, position=0, alt_text="Een rolstoel"))
    db.session.commit()
    colleague = make_user(organisation=listing.organisation)  # also sees the internal listing
    # A category's search finds its subcategories' listings too.
    queries = [*QUERIES, SearchQuery(category_id=listing.category.parent_id or listing.category_id)]

    statements: list[str] = []
    record = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731

    def build_parts() -> None:
        viewers = (AnonymousUserMixin(), colleague)
        for viewer in viewers:
            # The viewer's account is read to decide which listings they see, which is part
            # of the key: read it first, so that only what the parts show is recorded.
            visibility_of(viewer)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            with app.test_request_context("/"):
                for viewer in viewers:
                    pages.newest_part(viewer, 8)
                    for query in queries:
                        pages.search_parts(*searching_as(viewer, query))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    build_parts()
    # Kept parts brought up to date after a listing changed ask again in their own way.
    listing.quantity_available -= 1
    db.session.commit()
    build_parts()

    names = set(inspect(db.engine).get_table_names()) | set(db.metadata.tables)
    read = tables_read(names, statements)
    declared = {model.__table__.name for model in card_sources()}
    undeclared = read - declared - set(EXEMPT)
    assert not undeclared, (
        f"the search and home pages show data of {sorted(undeclared)}, which no model declares: "
        "a change there would leave kept pages stale. Declare the model with "
        "@shown_on_cards(...) (models/base.py), or add the table to EXEMPT with why.")
    assert read >= declared, (
        f"{sorted(declared - read)} declared @shown_on_cards but the kept parts read nothing "
        "of them here: drop the declaration, or make this test build the page that does")
    stale = {name for name in EXEMPT if name in names and name not in read}
    assert not stale, f"exempt but no longer read: {sorted(stale)}"


def test_a_declared_listing_attribute_holds_a_listing_id():
    """page_cache tells a change with the id in that attribute: it must be a listing's."""
    listing_id = Listing.__table__.c.id
    for model, source in card_sources().items():
        if source.listing is None:
            continue
        column = inspect(model).columns[source.listing]
        assert column is listing_id or any(
            key.column is listing_id for key in column.foreign_keys), (model, source.listing)


def test_a_sites_new_city_shows_on_its_listings_cards_at_once(app, client, make_listing,
                                                               make_user):
    """Site declares it shows on cards: its change renews the kept pages (memory, as in tests)."""
    admin = make_user(role=Role.ORG_ADMIN)
    make_listing("Rolstoel", organisation=admin.organisation)
    assert "· Utrecht</p>" in client.get("/listings/").get_data(as_text=True)
    site = admin.organisation.sites[0]
    update_site(admin, site, SiteDetails(site.name, site.street, site.postcode, "Amersfoort",
                                         site.province))
    page = client.get("/listings/").get_data(as_text=True)
    assert "· Amersfoort</p>" in page and "· Utrecht</p>" not in page


def variants(value: object) -> list[object]:
    """`value` with one of its values changed, for each value it holds (nested dataclasses)."""
    if dataclasses.is_dataclass(value):
        return [dataclasses.replace(value, **{field.name: changed})
                for field in dataclasses.fields(value)
                for changed in variants(getattr(value, field.name))]
    if isinstance(value, enum.Enum):
        return [next(member for member in type(value) if member is not value)]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1]
    if isinstance(value, str):  # reversed: a content hash stays one
        return [value[::-1] if value[::-1] != value else value + "x"]
    if isinstance(value, date):
        return [value + timedelta(days=1)]
    raise AssertionError(f"no variant of {value!r}: add one here")


def test_a_kept_card_is_the_card_rendered_afresh_whatever_changed(app):
    """templating.listing_card keeps cards by what they show: a changed value is never served
    from an older card."""
    card = ListingCard(
        id=7, title="Rolstoel", organisation=CardOrganisation(3, "Zorginstelling"),
        site=CardSite("Utrecht"), category=CardCategory(2, "furniture"), quantity_available=4,
        unit=Unit.PIECE, condition=Condition.GOOD, delivery_possible=False,
        available_until=date.today(),
        cover=CardCover(CardPhoto("ab" * 32, 640, 480), "Een rolstoel"),
        distance_km=12, distance_from="Hoofdlocatie")
    macro = app.jinja_env.get_template("listings/_card.html").module.card
    with app.test_request_context("/"):
        for changed in [dataclasses.replace(card, cover=None),
                        dataclasses.replace(card, distance_km=None, distance_from=None),
                        *variants(card)]:
            listing_card(card)
            assert listing_card(changed) == macro(changed), changed
    with app.test_request_context("/"), pytest.raises(TypeError):
        listing_card(Listing(id=7, title="Rolstoel"))
