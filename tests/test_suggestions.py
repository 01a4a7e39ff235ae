"""A search that finds few listings offers "Bedoelde je: rollator?" from the listings' own
words, only when the suggestion finds more of what the viewer may see; one click searches it
with the same filters."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Category, Condition, Language, ListingStatus
from marketplace.models.base import utcnow
from marketplace.services.search import (
    SearchQuery,
    did_you_mean,
    refresh_vocabulary,
    suggest,
    visibility_of,
)

SUGGESTION = re.compile(r'<p class="suggestion">([^<]*)<a href="([^"]+)">([^<]+)</a>\?</p>')


def suggestion_on(page: str) -> tuple[str, str, str] | None:
    """(the words before the link, the link, the suggestion) shown on a search page."""
    found = SUGGESTION.search(page)
    return None if found is None else (found.group(1).strip(), unescape(found.group(2)),
                                       found.group(3))


@pytest.fixture
def rollators(make_listing):
    listing = make_listing("Rollators, inklapbaar", category="mobility",
                           description="Twaalf inklapbare rollators met mandje.")
    make_listing("Nitrile handschoenen maat M", organisation=listing.organisation,
                 category="ppe", description="Dozen van 100 stuks, poedervrij.")
    refresh_vocabulary()
    return listing


def test_an_unknown_word_is_replaced_by_the_closest_word_of_the_titles(app, rollators):
    assert suggest(["rolator"]) == ["rollators"]
    assert suggest(["Rolator", "inklapbaar"]) == ["rollators", "inklapbaar"]
    assert suggest(["handschoenem"]) == ["handschoenen"]


def test_known_short_or_hopeless_words_get_no_suggestion(app, rollators):
    assert suggest(["rollators"]) is None  # known
    assert suggest(["rollator"]) is None  # a longer word starts with it: the search finds it
    assert suggest(["rol"]) is None  # too short to tell
    assert suggest(["zwembad"]) is None  # nothing close
    assert suggest(["rolator", "zwembad"]) is None  # one word beyond help: no suggestion


@pytest.mark.parametrize(("language", "words"), [(Language.EN, "Did you mean:"),
                                                 (Language.NL, "Bedoelde je:")])
def test_the_search_page_offers_the_suggestion_and_one_click_finds_the_listing(
        app, rollators, make_user, login_as, language, words):
    client = login_as(make_user(language=language))
    page = client.get("/listings/?q=rolator").get_data(as_text=True)
    suggested = suggestion_on(page)
    assert suggested is not None and suggested[::2] == (words, "rollators")
    link = urlsplit(suggested[1])
    assert link.path == "/listings/" and parse_qs(link.query)["q"] == ["rollators"]
    found = client.get(suggested[1]).get_data(as_text=True)
    assert "Rollators, inklapbaar" in found
    assert suggestion_on(found) is None


def test_the_suggestions_link_keeps_the_filters(app, rollators, client):
    mobility = db.session.scalar(select(Category.id).where(Category.slug == "mobility"))
    page = client.get(f"/listings/?q=rolator&category={mobility}&condition=good&sort=relevance"
                      "&page=3").get_data(as_text=True)
    suggested = suggestion_on(page)
    assert suggested is not None
    link = urlsplit(suggested[1])
    assert link.path == "/listings/"
    # The best match, asked for, is also what words ask for without a sort.
    assert parse_qs(link.query) == {"q": ["rollators"], "category": [str(mobility)],
                                    "condition": ["good"]}
    # With filters the suggestion would not find anything under, none is offered.
    page = client.get("/listings/?q=rolator&condition=new").get_data(as_text=True)
    assert suggestion_on(page) is None


def test_no_suggestion_when_the_search_finds_enough(app, make_listing, client):
    for title in ("Rollators", "Rollators, opvouwbaar", "Rollators met mand", "Rolstoelen"):
        make_listing(title)
    refresh_vocabulary()
    query = SearchQuery(text="rolator")
    assert did_you_mean(visibility_of(None), query, 0) == "rollators"
    assert did_you_mean(visibility_of(None), query, 2) == "rollators"  # finds three: more
    assert did_you_mean(visibility_of(None), query, 3) is None  # enough found already
    # A word in the titles is no typo, even where a similar one finds more.
    for number in range(3):
        make_listing(f"Rolator {number}")
    refresh_vocabulary()
    assert did_you_mean(visibility_of(None), query, 0) is None
    assert suggestion_on(client.get("/listings/?q=rolator").get_data(as_text=True)) is None


def test_words_of_listings_a_visitor_may_not_see_are_never_offered(app, make_listing,
                                                                   make_user, client,
                                                                   login_as):
    make_listing("Bureaustoel")  # seen by all, but not what the suggestions would find
    make_listing("Douchestoelen", status=ListingStatus.DRAFT)
    make_listing("Tillift met tilbanden", status=ListingStatus.WITHDRAWN)
    internal = make_listing("Zuurstofsaturatiemeters",
                            internal_until=utcnow() + timedelta(days=2))
    refresh_vocabulary()
    for text in ("douchestoelem", "tilift", "zuurstofsatuartiemeters"):
        page = client.get(f"/listings/?q={text}").get_data(as_text=True)
        assert suggestion_on(page) is None, text
        assert did_you_mean(visibility_of(None), SearchQuery(text=text), 0) is None, text
    # A colleague sees the internal listing, so to them the suggestion finds something.
    colleague = make_user(organisation=internal.organisation)
    page = login_as(colleague).get("/listings/?q=zuurstofsatuartiemeters")
    suggested = suggestion_on(page.get_data(as_text=True))
    assert suggested is not None and suggested[2] == "zuurstofsaturatiemeters"


def test_english_titles_are_suggested_too(app, make_listing, client):
    make_listing("Wheelchairs, self-propelled", condition=Condition.GOOD)
    refresh_vocabulary()
    page = client.get("/listings/?q=wheelchiars").get_data(as_text=True)
    assert suggestion_on(page) == ("Did you mean:", "/listings/?q=wheelchairs", "wheelchairs")


def test_in_the_demo_rolator_suggests_the_rollators_in_dutch(app, runner):
    """The demo (seed-demo refreshes the vocabulary): a Dutch visitor mistyping "rollator"."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    client = app.test_client()
    page = client.get("/listings/?q=rolator", headers={"Accept-Language": "nl"})
    suggested = suggestion_on(page.get_data(as_text=True))
    assert suggested is not None and suggested[0] == "Bedoelde je:"
    assert suggested[2] in ("rollator", "rollators")
    found = client.get(suggested[1], headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Rollators, inklapbaar" in found
