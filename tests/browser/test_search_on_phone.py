"""Searching on a phone, in Dutch (issue 18): the results come first, the filters fold behind
"Filters (2)" and open with a tap without JavaScript, each filter on shows as a chip that takes
it off; on a wide screen the filters are shown open beside the results. The home page has a
search box. Screenshots of each go to test-artifacts/ for a person to look at."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from browser_helpers import (
    ARTIFACTS,
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    dutch_phone_page,
    keep_artifacts,
    log_in,
)

from marketplace.services.demo import seed
from marketplace.services.demo_listings import seed_listings

# Two filters that the demo data answers with a few listings (beds, armchairs, buggies).
TWO_FILTERS = "/listings/?condition=good&delivery=1"
PHONE_HEIGHT = VIEWPORTS["phone"]["height"]


def seed_demo(app) -> None:
    with app.app_context():
        for step in (seed, seed_listings):
            list(step())


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"search-{name}.png"))


def test_on_a_phone_the_first_result_shows_and_the_filters_open_with_a_tap(
        request, live_server, browser, poster):
    base_url, app = live_server
    seed_demo(app)
    page = dutch_phone_page(browser, base_url, poster, javascript=False)
    try:
        page.goto(base_url + TWO_FILTERS)
        screenshot(page, "phone-two-filters")
        # The first card, its photo and its title, on the first screen, without scrolling.
        first_card = page.locator(".listing-card").first.bounding_box()
        title = page.locator(".listing-card-title").first.bounding_box()
        assert first_card is not None and title is not None
        assert title["y"] + title["height"] < PHONE_HEIGHT, (first_card, title)
        assert_fits_the_screen(page)

        # The filters are folded away; a tap on "Filters (2)" opens them, no JavaScript.
        toggle = page.get_by_text("Filters (2)", exact=True)
        province = page.get_by_label("Provincie", exact=True)
        assert toggle.is_visible() and province.is_hidden()
        toggle.click()
        assert province.is_visible()
        assert page.get_by_label("Staat", exact=True).input_value() == "good"
        assert page.get_by_label("Bezorgen mogelijk").is_checked()
        screenshot(page, "phone-filters-open")

        # A third filter from the open form, then the chip of one of them takes it off.
        province.select_option(label="Utrecht")
        page.get_by_role("button", name="Toon advertenties").click()
        page.get_by_text("Filters (3)", exact=True).wait_for()
        assert parse_qs(urlsplit(page.url).query)["province"] == ["utrecht"]
        page.get_by_role("link", name="Filter verwijderen: Staat: Goed").click()
        page.get_by_text("Filters (2)", exact=True).wait_for()
        left = parse_qs(urlsplit(page.url).query)
        assert "condition" not in left and left["province"] == ["utrecht"]
        assert page.get_by_role("link", name="Filter verwijderen: Provincie: Utrecht") \
            .is_visible()
        assert page.get_by_role("link", name="Filter verwijderen: Bezorgen mogelijk") \
            .is_visible()

        # "Alle filters wissen" keeps the words and drops every filter.
        page.goto(base_url + "/listings/?q=bed&condition=good&delivery=1")
        page.get_by_role("link", name="Alle filters wissen").click()
        page.wait_for_url("**q=bed**")
        assert page.locator("summary").inner_text() == "Filters"  # no count: none on
        left = parse_qs(urlsplit(page.url).query)
        assert left["q"] == ["bed"] and not {"condition", "delivery"} & set(left)
        assert page.get_by_label("Zoeken", exact=True).input_value() == "bed"
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_the_phone_search_page_passes_axe_folded_and_open(request, live_server, browser,
                                                          poster):
    """axe needs JavaScript (its timers never fire where it is off): a page with it on."""
    base_url, app = live_server
    seed_demo(app)
    page = dutch_phone_page(browser, base_url, poster)
    try:
        page.goto(base_url + TWO_FILTERS)
        check_accessibility(page)
        page.get_by_text("Filters (2)", exact=True).click()
        page.get_by_label("Provincie", exact=True).wait_for()
        check_accessibility(page)
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_the_sort_is_reached_without_opening_the_filters(request, live_server, browser,
                                                          poster):
    base_url, app = live_server
    seed_demo(app)
    page = dutch_phone_page(browser, base_url, poster, javascript=False)
    try:
        page.goto(base_url + TWO_FILTERS)
        sort = page.get_by_label("Sorteren op", exact=True)
        assert sort.is_visible()
        sort.select_option(label="Verloopt het eerst")
        page.get_by_role("button", name="Sorteer", exact=True).click()
        page.wait_for_url("**sort=expiring**")
        query = parse_qs(urlsplit(page.url).query)
        assert (query["condition"], query["delivery"], query["sort"]) == \
            (["good"], ["1"], ["expiring"])
        # New words keep the filters and the sort.
        page.get_by_label("Zoeken", exact=True).fill("bed")
        page.get_by_role("button", name="Zoeken", exact=True).click()
        page.wait_for_url("**q=bed**")
        assert parse_qs(urlsplit(page.url).query)["sort"] == ["expiring"]
        assert page.get_by_text("Filters (2)", exact=True).is_visible()
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_on_a_wide_screen_the_filters_are_open_beside_the_results(request, live_server,
                                                                  browser, poster):
    base_url, app = live_server
    seed_demo(app)
    page = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["desktop"]).new_page()
    try:
        log_in(page, base_url, poster, "nl")
        page.goto(base_url + TWO_FILTERS)
        screenshot(page, "desktop-two-filters")
        # The form stays the search landmark though its parts are placed in the page's grid.
        assert page.get_by_role("search").get_by_label("Provincie", exact=True).is_visible()
        province = page.get_by_label("Provincie", exact=True)
        assert province.is_visible()  # without a tap
        assert page.get_by_text("Filters (2)", exact=True).is_hidden()
        side = page.locator(".filter-panel").bounding_box()
        first_card = page.locator(".listing-card").first.bounding_box()
        assert side is not None and first_card is not None
        assert first_card["x"] > side["x"] + side["width"]
        assert first_card["y"] < VIEWPORTS["desktop"]["height"] / 2
        province.select_option(label="Utrecht")
        page.get_by_role("button", name="Toon advertenties").click()
        page.get_by_role("link", name="Filter verwijderen: Provincie: Utrecht").wait_for()
        assert_fits_the_screen(page)
        check_accessibility(page)
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_the_home_page_searches(request, live_server, browser, poster):
    base_url, app = live_server
    seed_demo(app)
    page = dutch_phone_page(browser, base_url, poster, javascript=False)
    try:
        page.goto(base_url + "/")
        screenshot(page, "phone-home")
        box = page.get_by_label("Wat zoek je?")
        assert box.bounding_box()["y"] < PHONE_HEIGHT
        box.fill("rollator")
        page.get_by_role("button", name="Zoeken", exact=True).click()
        page.wait_for_url("**/listings/?q=rollator")
        page.get_by_role("link", name="Rollators, inklapbaar").first.wait_for()
        assert page.get_by_label("Zoeken", exact=True).input_value() == "rollator"
    except BaseException:
        keep_artifacts(request, [page])
        raise
