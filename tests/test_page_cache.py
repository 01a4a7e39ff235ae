"""The search and home pages are kept between requests (marketplace/page_cache.py), and what a
member sees there is never out of date: every change shows on the next request, and a kept page
is never shown to a viewer who may see other listings."""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import timedelta

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from servers import TEST_REDIS_URL, forget_redis_keys, redis_available
from sqlalchemy import event, update

from marketplace import page_cache as page_cache_module
from marketplace.extensions import db
from marketplace.models import Category, Listing, ListingStatus, Role
from marketplace.models.base import utcnow
from marketplace.page_cache import PageCache, _MemoryBackend
from marketplace.services import categories, listings, organisations
from marketplace.services.claims import accept_claim, cancel_claim, claim_listing


def card_titles(page: str) -> list[str]:
    return re.findall(r'<h3 class="listing-card-title">([^<]*)</h3>', page)


def search(client, query: str = "") -> str:
    response = client.get(f"/listings/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


class Clock:
    """The time as the search pages (their `now`) and the cache (entry lifetimes) see it, moved
    only by the test: what a page shows at a moment does not depend on how busy the machine is."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.monotonic = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()

    class CacheTime:
        def __getattr__(self, name: str):
            return getattr(time, name)

        def monotonic(self) -> float:
            return fake.monotonic

    monkeypatch.setattr("marketplace.listings.pages.utcnow", lambda: fake.now)
    monkeypatch.setattr(page_cache_module, "time", CacheTime())
    return fake


@pytest.fixture
def giver(make_user):
    return make_user(role=Role.ORG_ADMIN)


@pytest.fixture
def platform_admin(make_user):
    return make_user(role=Role.PLATFORM_ADMIN)


def listing_queries(client, query: str) -> tuple[list[str], list[str]]:
    """The cards of a search page, and the SQL statements about listings it ran."""
    statements: list[str] = []
    record = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = search(client, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return card_titles(page), [statement for statement in statements
                               if "listing" in statement.lower()]


def test_a_search_asked_again_is_served_without_querying_listings(app, client, make_listing):
    make_listing("Rolstoel")
    assert listing_queries(client, "?q=rolstoel")[1]
    assert listing_queries(client, "?q=rolstoel") == (["Rolstoel"], [])


def test_members_get_the_page_kept_for_everyone_unless_their_organisation_has_internal_listings(
        app, client, make_listing, make_user, login_as, giver):
    make_listing("Rolstoel")
    colleague = login_as(make_user(organisation=giver.organisation))
    # Members' pages are kept per origin (search.with_origin: their organisation's first site,
    # whose distances the cards show), shared by colleagues.
    assert card_titles(search(login_as(make_user(organisation=giver.organisation)))) == \
        ["Rolstoel"]
    titles, statements = listing_queries(colleague, "")
    assert titles == ["Rolstoel"]
    assert not [statement for statement in statements if "ORDER BY listing" in statement]
    make_listing("Eerst voor collegas", organisation=giver.organisation,
                 internal_until=utcnow() + timedelta(days=1))
    assert card_titles(search(colleague)) == ["Eerst voor collegas", "Rolstoel"]
    assert card_titles(search(client)) == ["Rolstoel"]


def test_claims_that_change_no_quantity_keep_the_pages(app, client, make_listing, make_user):
    """Claiming and cancelling before an answer change nothing a card shows (though cancelling
    takes the listing's row lock), so the kept pages stay."""
    listing = make_listing("Rolstoel", quantity=5)
    claimant = make_user()
    search(client)
    claim = claim_listing(claimant, listing, 2)
    cancel_claim(claimant, claim)
    assert listing_queries(client, "") == (["Rolstoel"], [])


def test_changes_to_a_listing_show_on_the_next_request(app, client, make_listing, giver):
    listing = make_listing("Rolstoel", organisation=giver.organisation, quantity=5)
    assert "5 pieces" in search(client)
    assert card_titles(search(client, "?q=rolstoel")) == ["Rolstoel"]

    listing.title = "Rollator"
    db.session.commit()
    assert card_titles(search(client, "?q=rolstoel")) == []
    assert card_titles(search(client, "?q=rollator")) == ["Rollator"]

    listings.withdraw_listing(giver, listing)
    assert card_titles(search(client)) == []
    assert "Rollator" not in client.get("/").get_data(as_text=True)


def test_a_new_listing_shows_at_once_on_the_home_and_search_pages(app, client, make_listing):
    make_listing("Bureaustoel")
    assert card_titles(search(client)) == ["Bureaustoel"]
    assert "Bureaustoel" in client.get("/").get_data(as_text=True)
    make_listing("Hoog-laagbed")
    assert card_titles(search(client)) == ["Hoog-laagbed", "Bureaustoel"]
    assert "Hoog-laagbed" in client.get("/").get_data(as_text=True)


def test_a_claimed_quantity_shows_at_once(app, client, make_listing, make_user, giver):
    """Accepting reserves the quantity with an UPDATE statement, not through a loaded object."""
    listing = make_listing("Infuuspalen", organisation=giver.organisation, quantity=5)
    assert "5 pieces" in search(client)
    claim = claim_listing(make_user(), listing, 3)
    accept_claim(giver, claim)
    page = search(client)
    assert "2 pieces" in page and "5 pieces" not in page


def test_a_suspended_organisation_leaves_the_results_at_once(app, client, make_listing, giver,
                                                              platform_admin):
    make_listing("Rolstoel", organisation=giver.organisation)
    assert card_titles(search(client)) == ["Rolstoel"]
    organisations.suspend_organisation(platform_admin, giver.organisation, "Onderzoek")
    assert card_titles(search(client)) == []


def test_a_renamed_category_shows_in_the_filter_at_once(app, client, platform_admin):
    assert ">Furniture<" in search(client)
    furniture = db.session.scalar(db.select(Category).where(Category.slug == "furniture"))
    categories.rename_category(platform_admin, furniture, "Meubilair", "Furnishings")
    page = search(client)
    assert ">Furnishings<" in page and ">Furniture<" not in page


def test_changes_by_update_statements_show_and_rolled_back_ones_do_not(app, client,
                                                                      make_listing):
    """Housekeeping and the claim services change listings with UPDATE statements."""
    listing_id = make_listing("Rolstoel").id
    search(client)
    rename = update(Listing).where(Listing.id == listing_id).values(title="Rollator")
    db.session.execute(rename)
    db.session.rollback()
    assert card_titles(search(client)) == ["Rolstoel"]
    db.session.execute(rename)
    db.session.commit()
    assert card_titles(search(client)) == ["Rollator"]


def test_listings_in_their_internal_phase_stay_with_their_organisation(
        app, make_listing, make_user, login_as, giver, platform_admin):
    """The same search by a colleague, an outsider, an anonymous visitor and a platform admin:
    the colleague's kept page is not shown to the others."""
    make_listing("Open voor iedereen")
    make_listing("Eerst voor collegas", organisation=giver.organisation,
                 internal_until=utcnow() + timedelta(days=2))
    colleague = make_user(organisation=giver.organisation)
    both = ["Eerst voor collegas", "Open voor iedereen"]
    assert card_titles(search(login_as(colleague))) == both
    assert card_titles(search(login_as(make_user()))) == ["Open voor iedereen"]
    assert card_titles(search(app.test_client())) == ["Open voor iedereen"]
    assert card_titles(search(login_as(platform_admin))) == both
    assert "Eerst voor collega" not in app.test_client().get("/").get_data(as_text=True)


def test_a_listing_shows_to_everyone_as_soon_as_its_internal_phase_ends(app, client,
                                                                         make_listing, clock):
    """Nothing is written when an internal phase ends: kept pages last only until then (not
    the cache's 30 seconds)."""
    make_listing("Open voor iedereen")
    make_listing("Eerst voor collegas", internal_until=clock.now + timedelta(seconds=5))
    assert card_titles(search(client)) == ["Open voor iedereen"]
    clock.advance(4)
    assert card_titles(search(client)) == ["Open voor iedereen"]
    clock.advance(1.1)
    assert card_titles(search(client)) == ["Eerst voor collegas", "Open voor iedereen"]


def test_each_language_has_its_own_page(app, make_listing):
    make_listing("Rolstoel")
    english = app.test_client()
    dutch = app.test_client()
    dutch.set_cookie("language", "nl")
    assert "Find surplus" in search(english)
    page = search(dutch)
    assert "Overschot zoeken" in page
    assert "Find surplus" not in page
    assert "Find surplus" in search(english)


def test_what_the_member_typed_is_kept_per_query(app, client, make_listing):
    make_listing("Rolstoel")
    make_listing("Rollator")
    assert card_titles(search(client, "?q=rolstoel")) == ["Rolstoel"]
    assert card_titles(search(client, "?q=rollator")) == ["Rollator"]
    page = search(client, "?q=rollator")
    assert 'value="rollator"' in page


def test_the_alert_form_is_the_viewers_own(app, make_listing, make_user, login_as):
    """The "alert me" form carries the viewer's CSRF token: it is never taken from a kept page."""
    make_listing("Rolstoel")
    first, second = login_as(make_user()), login_as(make_user())
    token = re.compile(r'class="alert-me">\s*<input type="hidden" name="csrf_token" '
                       r'value="([^"]+)"')
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        tokens = {token.search(search(member, "?q=rolstoel")).group(1)
                  for member in (first, second)}
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert len(tokens) == 2


@pytest.fixture
def redis_prefix():
    if not redis_available():
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")
    prefix = f"test-page-cache-{uuid.uuid4().hex}:"
    yield prefix
    forget_redis_keys(prefix)


def test_servers_sharing_redis_show_each_others_changes_at_once(make_app, make_listing,
                                                                 redis_prefix):
    """Two app servers on one database and one Redis: a change made on one shows on the other's
    next request, though the other had the page kept."""
    settings = {"SEARCH_CACHE_URL": TEST_REDIS_URL, "SEARCH_CACHE_KEY_PREFIX": redis_prefix}
    first = make_app(**settings)
    second = make_app(SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"],
                      **settings)
    with first.app_context():
        listing = make_listing("Rolstoel")
        listing_id = listing.id
    with second.app_context():
        assert card_titles(search(second.test_client())) == ["Rolstoel"]
    with first.app_context():
        db.session.get(Listing, listing_id).title = "Rollator"
        db.session.commit()
    with second.app_context():
        assert card_titles(search(second.test_client())) == ["Rollator"]


def test_without_a_shared_cache_other_processes_catch_up_within_its_lifetime(make_app,
                                                                            make_listing, clock):
    """memory:// keeps a page per process: a change made elsewhere shows within
    SEARCH_CACHE_SECONDS (the documented limit of that setting)."""
    first = make_app(SEARCH_CACHE_URL="memory://", SEARCH_CACHE_SECONDS=10)
    second = make_app(SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"],
                      SEARCH_CACHE_URL="memory://", SEARCH_CACHE_SECONDS=10)
    with first.app_context():
        listing_id = make_listing("Rolstoel").id
    with second.app_context():
        assert card_titles(search(second.test_client())) == ["Rolstoel"]
    with first.app_context():
        db.session.get(Listing, listing_id).status = ListingStatus.WITHDRAWN
        db.session.commit()
    clock.advance(10.1)
    with second.app_context():
        assert card_titles(search(second.test_client())) == []


def test_an_unreachable_cache_still_gives_the_page(make_app, make_listing, caplog):
    unreachable = make_app(SEARCH_CACHE_URL="redis://127.0.0.1:9/0")  # nothing listens there
    with unreachable.app_context():
        make_listing("Rolstoel")
        client = unreachable.test_client()
        with caplog.at_level(logging.WARNING, logger="marketplace.page_cache"):
            assert card_titles(search(client)) == ["Rolstoel"]
            assert card_titles(search(client, "?q=rolstoel")) == ["Rolstoel"]
        assert "page cache unavailable" in caplog.text


def test_the_cache_can_be_switched_off(make_app, make_listing):
    uncached = make_app(SEARCH_CACHE_URL="none")
    with uncached.app_context():
        listing = make_listing("Rolstoel")
        client = uncached.test_client()
        assert card_titles(search(client)) == ["Rolstoel"]
        db.session.execute(update(Listing).where(Listing.id == listing.id)
                           .values(title="Rollator"))
        db.session.commit()
        assert card_titles(search(client)) == ["Rollator"]


def test_an_unknown_cache_setting_is_refused_at_start(make_app):
    with pytest.raises(ValueError, match="SEARCH_CACHE_URL"):
        make_app(SEARCH_CACHE_URL="memcached://127.0.0.1")


class _FlakyBackend(_MemoryBackend):
    """A shared cache whose connection drops once, when a change is announced."""

    def __init__(self) -> None:
        super().__init__()
        self.drop_next_change = False

    def _drop(self) -> None:
        if self.drop_next_change:
            self.drop_next_change = False
            raise RedisConnectionError("connection reset")

    def bump(self) -> None:
        self._drop()
        super().bump()

    def announce(self, listing_ids) -> None:
        self._drop()
        super().announce(listing_ids)


@pytest.mark.parametrize("listing_ids", [None, {5}], ids=["anything", "a listing"])
def test_a_change_the_cache_missed_is_told_once_it_answers_again(monkeypatch, listing_ids):
    backend = _FlakyBackend()
    cache = PageCache(backend, 600)
    rendered = iter(["old", "new"])
    build = lambda: {"results": next(rendered)}  # noqa: E731
    refresh = lambda value, changed: None  # noqa: E731  (cannot tell: made afresh)
    assert cache.kept(("search",), build, refresh) == {"results": "old"}
    monkeypatch.setattr(page_cache_module, "REDIS_PAUSE", 0)  # answers again at once
    backend.drop_next_change = True
    cache.changed(listing_ids)  # lost: the old page is still kept as it was
    assert cache.kept(("search",), build, refresh) == {"results": "new"}
