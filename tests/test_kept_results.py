"""Kept search results are brought up to date by asking only about the listings that changed
(marketplace/page_cache.py, services/search.refind): whatever happens to the listings, a kept
page shows exactly what the same page made afresh shows, and a search no change touches is not
made again."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import pytest
from servers import TEST_REDIS_URL, forget_redis_keys, redis_available
from sqlalchemy import update

from marketplace.extensions import db
from marketplace.listings import pages
from marketplace.models import Category, Condition, Listing, ListingStatus, Role
from marketplace.models.base import utcnow
from marketplace.services import categories
from marketplace.services.claims import accept_claim, claim_listing
from marketplace.services.search import limits as search_limits

QUERIES = ["/listings/", "/listings/?sort=expiring", "/listings/?page=2",
           "/listings/?q=rolstoel", "/listings/?q=rolstoel&sort=expiring",
           "/listings/?q=rolstoel&sort=relevance", "/listings/?condition=good",
           "/listings/?q=bed&condition=new&page=2", "/"]
TITLES = ["Rolstoel", "Rollator", "Bureaustoel", "Hoog-laagbed", "Tillift"]
SHOWN = re.compile(r'class="result-count"[^>]*>(.*?)</p>|<h3 class="listing-card-title">'
                   r'([^<]*)</h3>|(\d+ pieces?)|<nav class="pagination".*?</nav>', re.S)


def shown(client, path: str) -> list[str]:
    """What a member sees of the results: count, titles, quantities, pager."""
    response = client.get(path)
    assert response.status_code == 200
    return [" ".join(match.group(0).split())
            for match in SHOWN.finditer(response.get_data(as_text=True))]


@pytest.fixture(params=["memory", "redis"])
def cache_settings(request):
    if request.param == "memory":
        yield {"SEARCH_CACHE_URL": "memory://"}
        return
    if not redis_available():
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")
    prefix = f"test-kept-results-{uuid.uuid4().hex}:"
    yield {"SEARCH_CACHE_URL": TEST_REDIS_URL, "SEARCH_CACHE_KEY_PREFIX": prefix}
    forget_redis_keys(prefix)


@pytest.fixture
def small_counts(monkeypatch):
    """Counting stops after the page shown (25 ids for page 1, 13 on the home page), so that a
    few dozen listings exercise results whose count stopped, and pages from the second on are
    deep pages."""
    monkeypatch.setattr(search_limits, "COUNT_LIMIT", 0)
    monkeypatch.setattr(search_limits, "PAGES_AHEAD", 0)
    monkeypatch.setattr(search_limits, "DEEP_PAGE", 20)  # page 2 is read from its first


@pytest.fixture
def counted(monkeypatch):
    """How often a search was made afresh, and how often kept results were brought up to
    date by asking about the changed listings only."""
    calls = {"searches": 0, "refreshes": 0}
    find, refind = pages.find_listings, pages.refind

    def counting_find(*args, **kwargs):
        calls["searches"] += 1
        return find(*args, **kwargs)

    def counting_refind(*args, **kwargs):
        found = refind(*args, **kwargs)
        calls["refreshes"] += found is not None
        return found

    monkeypatch.setattr(pages, "find_listings", counting_find)
    monkeypatch.setattr(pages, "refind", counting_refind)
    return calls


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_pages_show_what_fresh_pages_show_whatever_changes(
        make_app, make_listing, make_org, make_user, cache_settings, small_counts, counted, seed):
    kept_app = make_app(**cache_settings)
    fresh_app = make_app(SQLALCHEMY_DATABASE_URI=kept_app.config["SQLALCHEMY_DATABASE_URI"],
                         SEARCH_CACHE_URL="none")
    rng = random.Random(seed)
    with kept_app.app_context():
        organisations = [make_org(), make_org()]
        givers = {organisation.id: make_user(organisation=organisation, role=Role.ORG_ADMIN)
                  for organisation in organisations}
        # A new member per claim: one member may not claim a listing twice.
        claimants = make_org()

        def new_listing() -> Listing:
            return make_listing(
                f"{rng.choice(TITLES)} {rng.randrange(1000)}",
                organisation=rng.choice(organisations), condition=rng.choice(list(Condition)),
                quantity=rng.randrange(1, 4),
                available_until=date.today() + timedelta(days=rng.randrange(1, 60)))

        for _ in range(30):
            new_listing()

        def change() -> str:
            # In id order: PostgreSQL gives rows in the order they were last written.
            listings = list(db.session.scalars(db.select(Listing).order_by(Listing.id)))
            listing = rng.choice(listings)
            what = rng.choice(["new", "title", "withdraw", "republish", "claim", "update",
                               "update-all", "condition"])
            if what == "new":
                new_listing()
            elif what == "title":
                listing.title = f"{rng.choice(TITLES)} {rng.randrange(1000)}"
            elif what == "withdraw":
                listing.status = ListingStatus.WITHDRAWN
            elif what == "republish":
                # Back among the results at an older place, also past where counting stopped.
                listing.status = ListingStatus.PUBLISHED
                listing.published_at = utcnow() - timedelta(hours=rng.randrange(1, 48))
            elif what == "claim" and listing.status is ListingStatus.PUBLISHED \
                    and listing.quantity_available > 0:
                accept_claim(givers[listing.organisation_id],
                             claim_listing(make_user(organisation=claimants), listing, 1))
            elif what == "update":  # a statement about one listing, as the claim services use
                db.session.execute(update(Listing).where(Listing.id == listing.id).values(
                    available_until=date.today() + timedelta(days=rng.randrange(1, 60))))
            elif what == "update-all":  # a statement about listings not known by id
                db.session.execute(update(Listing).where(Listing.condition == Condition.FAIR)
                                   .values(delivery_possible=True))
            else:
                listing.condition = rng.choice(list(Condition))
            db.session.commit()
            return f"{what} {listing.id}"

        kept, fresh = kept_app.test_client(), fresh_app.test_client()
        for step in range(40):
            done = change() if step else "nothing"
            for path in QUERIES:
                searches = counted["searches"]
                with fresh_app.app_context():
                    expected = shown(fresh, path)
                counted["searches"] = searches  # only the kept pages' searches are counted
                assert shown(kept, path) == expected, (step, done, path)
    # Most kept pages were brought up to date, not searched again.
    assert counted["refreshes"] > counted["searches"], counted


def test_a_change_no_kept_search_shows_does_not_repeat_the_search(
        app, client, make_listing, counted):
    make_listing("Rolstoel")
    assert "Rolstoel" in client.get("/listings/?q=rolstoel&sort=newest").get_data(as_text=True)
    make_listing("Bureau")
    make_listing("Tweede rolstoel")
    page = client.get("/listings/?q=rolstoel&sort=newest").get_data(as_text=True)
    assert "Tweede rolstoel" in page and "Bureau<" not in page
    assert counted == {"searches": 1, "refreshes": 1}


def test_a_claimed_quantity_shows_without_repeating_the_search(
        app, client, make_listing, make_user, counted):
    giver = make_user(role=Role.ORG_ADMIN)
    listing = make_listing("Infuuspalen", organisation=giver.organisation, quantity=5)
    assert "5 pieces" in client.get("/listings/").get_data(as_text=True)
    accept_claim(giver, claim_listing(make_user(), listing, 2))
    page = client.get("/listings/").get_data(as_text=True)
    assert "3 pieces" in page and "5 pieces" not in page
    assert counted == {"searches": 1, "refreshes": 1}


def test_results_by_relevance_are_searched_again(app, client, make_listing, counted):
    """A relevance score comes only with the whole search."""
    make_listing("Rolstoel")
    client.get("/listings/?q=rolstoel&sort=relevance")
    make_listing("Rolstoel elektrisch")
    page = client.get("/listings/?q=rolstoel&sort=relevance").get_data(as_text=True)
    assert "Rolstoel elektrisch" in page
    assert counted == {"searches": 2, "refreshes": 0}


def test_best_match_results_stay_when_the_change_touches_none_of_them(
        app, client, make_listing, counted):
    """Words ask for the best match by default; a listing that neither was among the results
    nor matches now leaves them as they are."""
    make_listing("Rolstoel")
    bureau = make_listing("Bureau")
    client.get("/listings/?q=rolstoel")
    bureau.quantity_available = 1
    db.session.commit()
    page = client.get("/listings/?q=rolstoel").get_data(as_text=True)
    assert "Rolstoel" in page and "Bureau<" not in page
    assert counted == {"searches": 1, "refreshes": 1}


def test_a_retired_category_leaves_the_filter_with_its_last_listing(app, client, make_listing,
                                                                   make_user, counted):
    """The filter offers a retired category while it holds listings: that part of a kept form
    follows the listings too."""
    admin = make_user(role=Role.PLATFORM_ADMIN)
    furniture = db.session.scalar(db.select(Category).where(Category.slug == "furniture"))
    listing = make_listing("Kast", category="furniture")
    categories.set_category_retired(admin, furniture, True)
    assert ">Furniture<" in client.get("/listings/").get_data(as_text=True)
    listing.status = ListingStatus.WITHDRAWN
    db.session.commit()
    assert ">Furniture<" not in client.get("/listings/").get_data(as_text=True)
    assert counted["refreshes"] == 1
