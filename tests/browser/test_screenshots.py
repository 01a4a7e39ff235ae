"""Screenshots of the main pages for the README, made on the demo data by every test run.

They are written to docs/screenshots/<viewport>-<page>.png (the visible viewport, not the whole
page, to keep them small), so the README shows the pages as they are. The demo data is dated
relative to now (a claim's "asked on" time, "available until"), so two runs never give quite the
same pixels: a screenshot is only rewritten when more than CHANGED_SHARE of its pixels differ
from the one in the tree, which keeps git clean across runs and still follows every change of
layout, colour or wording that shows.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from browser_helpers import VIEWPORTS, check_accessibility, keep_artifacts, log_in
from helpers import on_postgres
from PIL import Image, ImageChops

from marketplace.extensions import db
from marketplace.models import Category, Claim, Language, Listing
from marketplace.services.accounts import find_user_by_email
from marketplace.services.demo import DEMO_PASSWORD, seed
from marketplace.services.demo_listings import seed_activity, seed_listings
from marketplace.services.demo_moderation import seed_history, seed_moderation

pytestmark = pytest.mark.skipif(on_postgres(), reason="the screenshots are made once, on SQLite")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MEMBER = "daan@delinde.example.org"  # a member of Zorggroep De Linde, who claimed the rollators
GIVER = "anna@rivierenland.example.org"  # admin of Ziekenhuis Rivierenland, who offers them
ADMIN = "admin@example.org"
LISTING = "Buggy's voor volwassenen"  # offered by Het Baken, so Daan sees the claim form
CLAIMED = "Rollators, inklapbaar"
TOTAL_LIMIT = 2_500_000  # bytes, for all the screenshots together
CHANGED_SHARE = 0.005  # a timestamp is about 0.05% of the pixels; a change of layout far more


def changed_share(old: Path, new: bytes) -> float:
    """The share of pixels that differ between the picture in `old` and `new` (1 if sizes do)."""
    with Image.open(old) as before, Image.open(io.BytesIO(new)) as after:
        if before.size != after.size:
            return 1.0
        difference = ImageChops.difference(before.convert("RGB"), after.convert("RGB"))
        changed = difference.convert("L").point([0] + [1] * 255).histogram()[1]
        return changed / (after.width * after.height)


def shoot(page, path: str, name: str, viewport: str, phone_scroll_to: str | None) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")  # every photo is in
    if phone_scroll_to and viewport == "phone":  # the form fills a phone's screen: show results
        page.locator(phone_scroll_to).evaluate("element => element.scrollIntoView()")
    picture = page.screenshot(animations="disabled", caret="hide")
    target = SCREENSHOTS / f"{viewport}-{name}.png"
    if not target.exists() or changed_share(target, picture) > CHANGED_SHARE:
        target.write_bytes(picture)
    check_accessibility(page)


def test_screenshots_of_the_main_pages_for_the_readme(request, live_server, browser):
    base_url, app = live_server
    with app.app_context():
        for step in (seed, seed_listings, seed_activity, seed_moderation, seed_history):
            list(step())
        for address in (MEMBER, GIVER, ADMIN):
            find_user_by_email(address).language = Language.NL  # the product speaks Dutch first
        db.session.commit()
        listing_id = db.session.query(Listing).filter_by(title=LISTING).one().id
        claim_id = db.session.query(Claim).join(Listing).filter(Listing.title == CLAIMED) \
            .one().id
        medical_aids = db.session.query(Category).filter_by(slug="medical-aids").one().id

    tours = {
        MEMBER: [("home", "/"),
                 ("search", f"/listings/?category={medical_aids}", ".result-count"),
                 ("listing", f"/listings/{listing_id}"),
                 ("posting", "/listings/new")],
        GIVER: [("claims", "/claims/"), ("claim", f"/claims/{claim_id}"),
                ("our-listings", "/listings/mine")],
        ADMIN: [("review-queue", "/admin/listings"),
                ("impact", "/admin/impact")],
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = []
    try:
        for (address, tour), viewport in itertools.product(tours.items(), VIEWPORTS):
            context = browser.new_context(locale="nl-NL", viewport=VIEWPORTS[viewport],
                                          base_url=base_url, reduced_motion="reduce")
            login = context.new_page()
            pages.append(login)
            log_in(login, base_url, address, "nl", DEMO_PASSWORD)
            # A fresh tab for the pictures: no "welcome" message, no hover or focus left over.
            page = context.new_page()
            pages.append(page)
            for name, path, *phone_scroll_to in tour:
                shoot(page, path, name, viewport, *phone_scroll_to or [None])
            context.close()
            pages.clear()
    except BaseException:
        keep_artifacts(request, pages)
        raise

    sizes = {path.name: path.stat().st_size for path in SCREENSHOTS.glob("*.png")}
    assert {f"{viewport}-{name}.png" for viewport in VIEWPORTS for tour in tours.values()
            for name, *_where in tour} <= set(sizes)
    assert sum(sizes.values()) < TOTAL_LIMIT, sizes
