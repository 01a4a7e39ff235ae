"""Every page as every role, checked with axe-core (vendored, no CDN) at desktop and phone size,
and a visible focus indicator on every element the Tab key reaches on the key pages.

On the demo data, each role starts from a few pages and follows every link it is shown (one
page per kind of URL), so a page added later is checked without naming it here. Forms are also
sent empty to check the page that shows the errors, and the error pages are visited."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_helpers import (
    ACCESSIBILITY_CHECKED,
    VIEWPORTS,
    check_accessibility,
    keep_artifacts,
)
from helpers import on_postgres

from marketplace.extensions import db
from marketplace.models import Claim, Language, Listing, ListingStatus
from marketplace.services.accounts import find_user_by_email
from marketplace.services.demo import DEMO_PASSWORD, seed
from marketplace.services.demo_listings import seed_activity, seed_listings
from marketplace.services.demo_moderation import seed_history, seed_moderation
from marketplace.services.tokens import TokenPurpose, make_token

pytestmark = pytest.mark.skipif(on_postgres(),
                       reason="the markup is the same on either database: checked on SQLite")

ROLES = {
    "visitor": None,
    "member": "bram@rivierenland.example.org",
    "organisation admin": "anna@rivierenland.example.org",
    "pending member": "eva@delinde.example.org",
    "platform admin": "admin@example.org",
}
START = ("/", "/listings/", "/wanted/", "/claims/", "/alerts/", "/account/", "/listings/mine",
         "/organisations/mine", "/admin/", "/auth/login", "/auth/signup", "/auth/forgot-password",
         "/auth/confirm", "/no-such-page")
# Not pages: files, photos, actions, and links that change the session or need a mailed token.
SKIP = re.compile(r"^/(static|photos)/|\.(csv|pdf|ics)$|^/auth/(logout|confirm/|reset/)|^/language"
                  r"|^/account/email-preferences/")
MAX_PAGES_PER_ROLE = 80


def kind_of(url: str) -> str:
    """One page per kind: numbers in the path and the values of the query do not count."""
    parts = urlsplit(url)
    keys = sorted({key for key, _ in parse_qsl(parts.query) if key != "page"})
    return re.sub(r"/\d+", "/N", parts.path) + ("?" + "&".join(keys) if keys else "")


def log_in(page, base_url: str, address: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.locator("#email").fill(address)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{base_url}/")


def links_on(page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    found = []
    for href in hrefs:
        href = href.split("#")[0]
        if href.startswith(base_url) and not SKIP.search(urlsplit(href).path):
            found.append(href)
    return found


def send_empty(page) -> None:
    """Send the main form of the page without its browser-side checks: the server's errors."""
    form = page.locator("main form[method=post]").filter(
        has=page.locator("input[type=text], input[type=email], input[type=password], textarea")
    ).first
    assert form.count(), f"no form on {page.url}"
    form.evaluate("form => { form.noValidate = true; }")
    for field in form.locator("input[type=text], input[type=number], input[type=email], "
                              "input[type=password], textarea").all():
        if field.is_visible():
            field.fill("")
    with page.expect_navigation():
        form.locator("button:not([type=button]), input[type=submit]").first.click()
    assert page.locator("main .error, main .alert--error").count(), f"no error on {page.url}"


def problems_on(page) -> list[str]:
    try:
        check_accessibility(page)
    except AssertionError as problem:
        return [str(problem)]
    return []


def crawl(page, base_url: str, start: list[str]) -> tuple[set[str], list[str]]:
    """Visit the start pages and every link found on the way, one page per kind of URL."""
    queue, seen_kinds, visited, problems = list(start), set(), set(), []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        if kind_of(url) in seen_kinds:
            continue
        seen_kinds.add(kind_of(url))
        page.goto(url)
        visited.add(url)
        problems += problems_on(page)
        queue += links_on(page, base_url)
    return visited, problems


def extra_pages(page, base_url: str, role: str, app) -> list[str]:
    """The pages no link leads to: forms with errors, filters applied, token pages."""
    problems = []

    def visit(path: str) -> None:
        page.goto(base_url + path)
        problems.extend(problems_on(page))

    if role == "visitor":
        visit("/auth/login")
        page.locator("#email").fill("nobody@example.org")
        page.locator("#password").fill("wrong password")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
        problems.extend(problems_on(page))
        for path in ("/auth/signup", "/auth/forgot-password"):
            visit(path)
            send_empty(page)
            problems.extend(problems_on(page))
        with app.app_context():
            user = find_user_by_email(ROLES["member"])
            from marketplace.services.accounts import _password_fingerprint
            token = make_token(TokenPurpose.RESET_PASSWORD,
                               {"u": user.id, "p": _password_fingerprint(user)})
        visit(f"/auth/reset/{token}")
        send_empty(page)
        problems.extend(problems_on(page))
        visit("/auth/reset/not-a-token")
        visit("/claims/")  # to the login page, with a message
    else:
        visit("/no-such-page")
        visit("/admin/audit")  # 403 unless a platform admin
        visit("/listings/?q=rolstoel&condition=good&province=utrecht&days=30&sort=newest"
              "&delivery=1")
        visit("/listings/?q=zzzzzz")  # nothing found
    if role in ("member", "organisation admin"):
        for path in ("/listings/new", "/wanted/new", "/account/password"):
            visit(path)
            send_empty(page)
            problems.extend(problems_on(page))
        with app.app_context():
            listing = db.session.query(Listing).filter_by(status=ListingStatus.PUBLISHED) \
                .filter(Listing.organisation_id != find_user_by_email(ROLES[role])
                        .organisation_id).first()
            claim_ids = [claim.id for claim in db.session.query(Claim).all()]
        visit(f"/listings/{listing.id}")
        if page.locator("#quantity").count():
            page.locator("#quantity").fill("9999")
            page.locator("#quantity").evaluate("field => { field.form.noValidate = true; }")
            with page.expect_navigation():
                page.locator("#quantity").evaluate("field => field.form.requestSubmit()")
            assert page.locator("#quantity-error").count(), "the claim form shows no error"
            problems.extend(problems_on(page))
        for claim_id in claim_ids:  # as giver, as taker, and 403/404 for the others'
            visit(f"/claims/{claim_id}")
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_serious_accessibility_problem_on_any_page_for_any_role(
        request, live_server, browser, viewport):
    base_url, app = live_server
    with app.app_context():
        for step in (seed, seed_listings, seed_activity, seed_moderation, seed_history):
            list(step())
        for address in ROLES.values():
            if address:
                find_user_by_email(address).language = Language.EN
        find_user_by_email(ROLES["organisation admin"]).language = Language.NL  # both languages
        db.session.commit()

    pages, problems, visited = [], [], set()
    try:
        for role, address in ROLES.items():
            page = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport]).new_page()
            pages.append(page)
            if address:
                log_in(page, base_url, address)
            seen, found = crawl(page, base_url, [base_url + path for path in START])
            visited |= seen
            problems += found
            problems += extra_pages(page, base_url, role, app)
            page.context.close()
            pages.remove(page)
        assert not problems, "\n".join(sorted(set(problems)))
        kinds = {kind_of(url) for url in visited}
        for needed in ("/", "/listings/", "/listings/N", "/listings/new", "/claims/", "/claims/N",
                       "/alerts/", "/wanted/", "/account/", "/organisations/N/members",
                       "/organisations/N/sites", "/admin/", "/admin/listings", "/admin/reports",
                       "/admin/organisations", "/admin/organisations/N", "/admin/users",
                       "/admin/users/N", "/admin/impact", "/admin/audit", "/admin/categories",
                       "/admin/mail", "/auth/login", "/auth/signup", "/auth/forgot-password"):
            assert needed in kinds, f"{needed} was not reached: {sorted(kinds)}"
        print(f"axe checked {len(ACCESSIBILITY_CHECKED)} URLs of {len(kinds)} kinds:",
              *sorted(kinds))
    except BaseException:
        keep_artifacts(request, pages)
        raise


FOCUS_OF_ACTIVE_ELEMENT = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    // The calendar button inside a date field: the host is active but not :focus, and the
    // ring (app.css, ::-webkit-calendar-picker-indicator:focus-visible) is not computable here.
    if (element.type === 'date' && !element.matches(':focus')) {
        return {visible: true, what: 'calendar'};
    }
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none';
    const name = (element.getAttribute('aria-label') || element.innerText || element.value
                  || element.name || element.id || '').trim().slice(0, 40);
    return {visible: outline || shadow, what: element.tagName.toLowerCase() + ' ' + name};
}"""


def assert_focus_is_always_visible(page, presses: int = 40) -> list[str]:
    """Tab through the page: every element that takes the focus shows it. Returns their names."""
    page.locator("body").focus()
    reached, hidden = [], []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_OF_ACTIVE_ELEMENT)
        if focused is None:
            break
        reached.append(focused["what"])
        if not focused["visible"]:
            hidden.append(focused["what"])
    assert not hidden, f"no visible focus on {page.url} for {hidden}"
    return reached


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_focused_element_shows_its_focus_on_the_key_pages(
        request, live_server, browser, viewport):
    base_url, app = live_server
    with app.app_context():
        for step in (seed, seed_listings, seed_activity):
            list(step())
        find_user_by_email(ROLES["member"]).language = Language.EN
        listing = db.session.query(Listing).filter_by(status=ListingStatus.PUBLISHED) \
            .filter(Listing.organisation_id != find_user_by_email(ROLES["member"])
                    .organisation_id).first().id
        db.session.commit()

    page = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport]).new_page()
    try:
        page.goto(f"{base_url}/auth/login")
        reached = assert_focus_is_always_visible(page)
        assert reached[0] == "a Skip to content"
        log_in(page, base_url, ROLES["member"])
        for path in ("/", "/listings/", f"/listings/{listing}", "/listings/new", "/claims/",
                     "/alerts/", "/account/"):
            page.goto(base_url + path)
            assert len(assert_focus_is_always_visible(page)) > 5, path
    except BaseException:
        keep_artifacts(request, [page])
        raise
