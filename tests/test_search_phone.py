"""The search page on a phone (issue 18), as the server writes it: every filter on is a chip in
the page's language whose link is the same search without it; "Filters (N)" counts the filters,
not the words or the sort; the filter form is folded (a details element, never rendered open:
on a wide screen the stylesheet shows it); the sort sits beside the count and keeps the filters;
the home page has a search box. Browser checks: tests/browser/test_search_on_phone.py."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Category, Condition, OrganisationKind

SEARCH = "/listings/"


class Page(HTMLParser):
    """What a test reads of a search page: the chips (label, link), the filter toggle and its
    details element, and the forms with their fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.chips: list[tuple[str, str]] = []
        self.links: dict[str, str] = {}  # text -> href
        self.toggle = ""
        self.details: list[dict[str, str | None]] = []
        self.forms: list[dict[str, object]] = []
        self._open: list[str] = []  # what the text being read belongs to
        self._href = ""
        self._text = ""
        self.html = html
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a":
            self._open.append("chip" if found.get("class") == "chip" else "a")
            self._href, self._text = found.get("href") or "", ""
        elif tag == "span" and found.get("aria-hidden") == "true":
            self._open.append("hidden")  # the cross on a chip: not part of its name
        elif tag == "summary":
            self._open.append("summary")
        elif tag == "details":
            self.details.append(found)
        elif tag == "form":
            self.forms.append({**found, "fields": []})
        elif tag in ("input", "select") and self.forms:
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, list)
            fields.append((found.get("type", tag), found.get("name"), found.get("value")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            text = " ".join(self._text.split())
            if self._open.pop() == "chip":
                self.chips.append((text, self._href))
            else:
                self.links[text] = self._href
        elif tag == "summary" or (tag == "span" and self._open[-1:] == ["hidden"]):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] in ("a", "chip"):
            self._text += data
        elif self._open and self._open[-1] == "summary":
            self.toggle += data.strip()

    def form(self, css_class: str) -> dict[str, object]:
        return next(form for form in self.forms if css_class in str(form.get("class")))


def page_at(client, url: str, language: str = "nl") -> Page:
    response = client.get(url, headers={"Accept-Language": language})
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


def args_of(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert parts.path == SEARCH, url
    return parse_qs(parts.query)


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


@pytest.fixture
def listings(make_listing, make_org):
    """A few listings the filters below answer, so the page has cards and a count."""
    hospital = make_org(name="Ziekenhuis Zuid", kind=OrganisationKind.HOSPITAL)
    make_listing("Rolstoel, opvouwbaar", organisation=hospital, category="mobility",
                 condition=Condition.AS_NEW, delivery_possible=True)
    make_listing("Rollator met zitje", organisation=hospital, category="mobility",
                 condition=Condition.AS_NEW, delivery_possible=True)
    make_listing("Bureaustoel", organisation=hospital)


def test_every_filter_on_is_a_dutch_chip_whose_link_is_the_search_without_it(client,
                                                                             listings):
    mobility = category_id("mobility")
    asked = {"q": "rolstoel", "category": str(mobility), "condition": "as_new",
             "province": "utrecht", "kind": "hospital", "days": "7", "delivery": "1",
             "sort": "expiring", "page": "2"}
    page = page_at(client, SEARCH + "?" + "&".join(f"{k}={v}" for k, v in asked.items()))

    labels = [label for label, _link in page.chips]
    assert labels == [
        "Filter verwijderen: Categorie: Loophulpmiddelen en rolstoelen",
        "Filter verwijderen: Staat: Zo goed als nieuw",
        "Filter verwijderen: Provincie: Utrecht",
        "Filter verwijderen: Aangeboden door: Ziekenhuis",
        "Filter verwijderen: Geplaatst: In de afgelopen week",
        "Filter verwijderen: Bezorgen mogelijk",
    ]
    removed = ["category", "condition", "province", "kind", "days", "delivery"]
    for (label, link), name in zip(page.chips, removed, strict=True):
        kept = {key: [value] for key, value in asked.items() if key not in (name, "page")}
        assert args_of(link) == kept, label  # the words and the sort stay, from page 1
    assert page.toggle == "Filters (6)"
    everything_off = args_of(page.links["Alle filters wissen"])
    assert everything_off == {"q": ["rolstoel"], "sort": ["expiring"]}


def test_following_a_chip_takes_its_filter_off_and_the_count_follows(client, listings):
    page = page_at(client, SEARCH + "?condition=as_new&delivery=1")
    assert page.toggle == "Filters (2)"
    link = dict(page.chips)["Filter verwijderen: Bezorgen mogelijk"]
    after = page_at(client, link)
    assert [label for label, _link in after.chips] == \
        ["Filter verwijderen: Staat: Zo goed als nieuw"]
    assert after.toggle == "Filters (1)"
    assert "Alle filters wissen" not in after.links  # one filter: its chip is enough
    none_left = page_at(client, dict(after.chips)["Filter verwijderen: Staat: Zo goed als nieuw"])
    assert none_left.chips == [] and none_left.toggle == "Filters"


@pytest.mark.parametrize("url", [
    SEARCH, SEARCH + "?q=rolstoel", SEARCH + "?sort=expiring", SEARCH + "?q=bed&sort=relevance",
    SEARCH + "?page=2", SEARCH + "?condition=broken&province=atlantis&days=0&delivery=no",
])
def test_words_sort_page_and_values_that_mean_nothing_are_no_filters(client, listings, url):
    page = page_at(client, url)
    assert page.chips == [] and page.toggle == "Filters"


def test_the_filters_are_folded_even_when_some_are_on_or_nothing_is_found(client, listings):
    for url in (SEARCH, SEARCH + "?condition=as_new&delivery=1", SEARCH + "?q=zzzzzz&days=1"):
        page = page_at(client, url)
        assert len(page.details) == 1 and "open" not in page.details[0], url


def test_chips_speak_english_on_an_english_page_of_the_same_kept_search(client, listings):
    url = SEARCH + "?condition=as_new&delivery=1&province=friesland"
    assert page_at(client, url, "nl").chips  # kept in Dutch first: the key holds the language
    page = page_at(client, url, "en")
    assert [label for label, _link in page.chips] == [
        "Remove filter: Condition: As new", "Remove filter: Province: Fryslân",
        "Remove filter: Delivery possible"]
    assert page.toggle == "Filters (3)" and "Remove all filters" in page.links


def test_a_stale_link_to_a_category_or_an_odd_period_still_has_a_chip_to_take_it_off(
        client, listings):
    page = page_at(client, SEARCH + "?category=999999&days=14")
    chips = dict(page.chips)
    assert "Filter verwijderen: Categorie: onbekende categorie" in chips
    assert "Filter verwijderen: Geplaatst: In de afgelopen 14 dagen" in chips
    assert args_of(chips["Filter verwijderen: Categorie: onbekende categorie"]) == \
        {"days": ["14"]}
    # Sending the form again keeps the period: it is among the choices, chosen.
    assert ("select", "days", None) in page.form("search-form")["fields"]
    assert '<option value="14" selected>In de afgelopen 14 dagen</option>' in page.html


def test_the_sort_beside_the_count_keeps_the_filters_and_the_form_keeps_the_sort(client,
                                                                                 listings):
    page = page_at(client, SEARCH + "?q=rolstoel&condition=as_new&sort=expiring")
    sort_fields = page.form("sort-form")["fields"]
    assert ("hidden", "q", "rolstoel") in sort_fields and ("hidden", "condition", "as_new") in \
        sort_fields
    assert ("select", "sort", None) in sort_fields
    assert not any(name == "page" or (kind == "hidden" and name == "sort")
                   for kind, name, _value in sort_fields)
    search_fields = page.form("search-form")["fields"]
    assert ("hidden", "sort", "expiring") in search_fields  # new words keep the order
    # Without a chosen order the form sends none.
    plain = page_at(client, SEARCH + "?q=rolstoel")
    assert not any(name == "sort" for _kind, name, _value in plain.form("search-form")["fields"])


def test_nothing_found_has_no_sort_and_offers_to_drop_the_filters(client, listings):
    page = page_at(client, SEARCH + "?q=rolstoel&condition=for_parts")
    assert not any("sort-form" in str(form.get("class")) for form in page.forms)
    assert args_of(page.links["zoek met dezelfde woorden, zonder filters"]) == \
        {"q": ["rolstoel"]}


@pytest.mark.parametrize("member", [False, True], ids=["visitor", "member"])
def test_the_home_page_has_a_search_box_that_asks_the_search_page(client, login_as,
                                                                  make_user, listings,
                                                                  member):
    from marketplace.models import Language

    browser = login_as(make_user(language=Language.NL)) if member else client
    html = browser.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    page = Page(html)
    box = next(form for form in page.forms if form.get("role") == "search")
    assert box["action"] == SEARCH and box.get("method") == "get"
    assert ("search", "q", "") in box["fields"]
    assert '<label for="q">Wat zoek je?</label>' in html
    found = browser.get(SEARCH + "?q=rolstoel").get_data(as_text=True)
    assert "Rolstoel, opvouwbaar" in found and "Bureaustoel" not in found
