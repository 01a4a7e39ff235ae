"""Every route of the application, taken from its URL map (so a new route cannot be missed),
walked as an anonymous visitor, a member of another organisation, the admin of the organisation
that owns what the URL names, a platform admin, and three members of that organisation who are
not in good standing (awaiting approval, deactivated, suspended organisation); the ids of
another organisation's drafts, claims, messages, alerts and photos tried by outsiders (IDOR);
and every POST refused without its CSRF token.

The scenario is tests/security_world.py: organisation A owns what the URLs name.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import builders
import pytest
from builders import category_id
from helpers import csrf_token, outbox
from security_world import (
    GOOD,
    ROLES,
    SECRET_DRAFT,
    SECRET_MESSAGE_CLAIMANT,
    SECRET_MESSAGE_GIVER,
    SECRET_PENDING,
    SECRETS_OF_A,
    Answer,
    World,
    build_world,
    client_for,
    database_state,
    fetch,
    rules_with,
    stored_photo_names,
    url_for_rule,
    variants,
)
from werkzeug.routing import Rule

from marketplace import create_app

LOGIN = (302, "/auth/login?next=")
HOME = (302, "/")
WAITING = (302, "/account/waiting")  # what an account not in good standing waits for
ANY = None  # anything but a server error (an admin's empty form may do or refuse anything)

# (anonymous, outsider, org_admin, platform_admin, pending_member, deactivated_member,
#  suspended_member): ROLES. The last three belong to organisation A, whose things the URLs
# name, yet see what a visitor sees. A deactivated member's session has ended (a visitor).
# A suspended member's organisation is A: its published listing is hidden from everyone.
PUBLIC = (200,) * 7
MEMBERS = (LOGIN, 200, 200, 200, WAITING, LOGIN, WAITING)  # member pages: good standing only
OWN = (LOGIN, 200, 200, 200, 200, LOGIN, 200)  # one's own profile, whatever one's standing
ORGANISATION = (LOGIN, 403, 200, 200, 403, LOGIN, 403)
PLATFORM = (LOGIN, 403, 403, 200, 403, LOGIN, 403)
PRIVATE_LISTING = (404, 404, 200, 200, 404, 404, 404)  # a draft or a listing waiting for review
LOGGED_IN_GOES_HOME = (200, HOME, HOME, HOME, HOME, 200, HOME)

EXPECTED_GET: dict[str, tuple] = {
    "main.home": PUBLIC,
    "main.privacy": PUBLIC,
    "main.livez": PUBLIC,
    "main.healthz": PUBLIC,
    "static": PUBLIC,
    "listings.search": PUBLIC,
    "account.deleted": PUBLIC,
    "account.email_preferences": PUBLIC,  # the unsubscribe link works without logging in
    "account.unsubscribe": PUBLIC,  # the one-click link (List-Unsubscribe) of optional mail
    "auth.check_inbox": PUBLIC,
    "auth.resend_confirmation": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.login": LOGGED_IN_GOES_HOME,
    "auth.signup": LOGGED_IN_GOES_HOME,
    "auth.confirm_email": ((302, "/auth/login?email="), HOME, HOME, HOME, HOME,
                           (302, "/auth/login?email="), HOME),
    "account.profile": OWN,
    "account.data": OWN,
    "account.delete": OWN,
    "account.change_password": OWN,
    "account.waiting": (LOGIN, HOME, HOME, HOME, 200, LOGIN, 200),
    "alerts.index": MEMBERS,
    "wanted.index": MEMBERS,
    "wanted.show": MEMBERS,  # wanted posts are for every member of the platform
    "wanted.new": MEMBERS,
    # Platform admins have no organisation: no claims or listings of their own. A member not
    # in good standing sees only their own claims (none here): the waiting page instead.
    "claims.index": (LOGIN, 200, 200, 404, WAITING, LOGIN, WAITING),
    "listings.mine": (LOGIN, 200, 200, 404, WAITING, LOGIN, WAITING),
    "organisations.mine": (LOGIN, (302, "/organisations/"), (302, "/organisations/"), 404,
                           WAITING, LOGIN, WAITING),
    "listings.new": (LOGIN, 200, 200, HOME, WAITING, LOGIN, WAITING),
    "claims.show": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    "listings.show:published": (200, 200, 200, 200, 200, 200, 404),
    "listings.show:draft": PRIVATE_LISTING,
    "listings.show:pending": PRIVATE_LISTING,
    "photos.serve:published": (200, 200, 200, 200, 200, 200, 404),
    "photos.serve:draft": PRIVATE_LISTING,
    "photos.serve:pending": PRIVATE_LISTING,
    "listings.edit:published": (LOGIN, 403, 200, 200, 403, LOGIN, 404),
    "listings.edit:draft": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    "listings.edit:pending": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    # Nobody reports their own organisation's listing.
    "reports.report_listing:published": (LOGIN, 200, 403, 200, WAITING, LOGIN, WAITING),
    "reports.report_listing:draft": (LOGIN, 404, 403, 200, WAITING, LOGIN, WAITING),
    "reports.report_listing:pending": (LOGIN, 404, 403, 200, WAITING, LOGIN, WAITING),
    # Confirmation steps (the POST acts only with the page's confirmation): who may act sees them.
    "listings.withdraw:published": (LOGIN, 403, 200, 200, 403, LOGIN, 404),
    "listings.withdraw:draft": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    "listings.withdraw:pending": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    "claims.cancel": (LOGIN, 404, 200, 200, 404, LOGIN, 404),
    # The world's claim waits for an answer: no time agreed, no calendar file for anyone.
    "claims.pickup_calendar": (LOGIN, 404, 404, 404, 404, LOGIN, 404),
    # A field safety notice sent to A: its members only (platform admins see the admin page).
    "safety_notices.show": (LOGIN, 404, 200, 404, WAITING, LOGIN, WAITING),
    # The world's claim is not collected: no transfer document for anyone (tests/
    # test_transfers.py downloads a real one as each side, an admin and an outsider).
    "transfers.document": (LOGIN, 404, 404, 404, 404, LOGIN, 404),
    # The world's listings have no device passport, so no instructions to download for anyone
    # (tests/test_device_passports.py downloads real ones per visibility).
    "listings.instructions": (404,) * 7,
    # An organisation's register: its members and platform admins (VIEW_TRANSFER).
    "transfers.register": ORGANISATION,
    "transfers.register_csv": ORGANISATION,
}

CLAIM_ACTION = (LOGIN, 404, ANY, ANY, 404, LOGIN, 404)
EDIT_PUBLISHED = (LOGIN, 403, ANY, ANY, 403, LOGIN, 404)
EDIT_PRIVATE = (LOGIN, 404, ANY, ANY, 404, LOGIN, 404)
EXPECTED_POST: dict[str, tuple] = {
    "main.switch_language": (HOME,) * 7,
    "auth.login": (422,) * 7,
    "auth.signup": (422, HOME, HOME, HOME, HOME, 422, HOME),
    "auth.forgot_password": (422,) * 7,
    "auth.resend_confirmation": (422,) * 7,
    "auth.reset_password": (422,) * 7,
    "account.email_preferences": (422,) * 7,
    "account.unsubscribe": (400,) * 7,  # not the one click (RFC 8058 body): nothing changes
    # A's member acknowledges (a redirect to the notice); anyone else finds nothing.
    "safety_notices.acknowledge": (LOGIN, 404, (302, "/safety-notices/"), 404, WAITING, LOGIN,
                                   WAITING),
    "auth.logout": (LOGIN, HOME, HOME, HOME, HOME, LOGIN, HOME),
    # An empty form keeps what the profile has (WTForms falls back to the object).
    "account.profile": (LOGIN, *((302, "/account/"),) * 4, LOGIN, (302, "/account/")),
    "account.change_password": (LOGIN, 422, 422, 422, 422, LOGIN, 422),
    "account.data": (LOGIN, ANY, ANY, ANY, ANY, LOGIN, ANY),
    "account.delete": (LOGIN, ANY, ANY, ANY, ANY, LOGIN, ANY),
    "alerts.create": (LOGIN, ANY, ANY, ANY, WAITING, LOGIN, WAITING),
    "alerts.change": (LOGIN, 404, 404, 404, 404, LOGIN, 404),  # alerts are personal, even to admins
    "alerts.frequency": (LOGIN, 404, 404, 404, 404, LOGIN, 404),
    "claims.accept": CLAIM_ACTION,
    "claims.decline": CLAIM_ACTION,
    "claims.cancel": CLAIM_ACTION,
    "claims.collected": CLAIM_ACTION,
    "claims.message": CLAIM_ACTION,
    "claims.propose_time": CLAIM_ACTION,
    "claims.answer_time": CLAIM_ACTION,
    # Only the claimant organisation's medical technology signs off (the world has none): who
    # sees the claim is refused, nobody else finds it.
    "claims.sign_off": (LOGIN, 404, 403, 403, 404, LOGIN, 404),
    "claims.refuse_sign_off": (LOGIN, 404, 403, 403, 404, LOGIN, 404),
    "claims.create:published": (LOGIN, 422, 422, 422, WAITING, LOGIN, WAITING),
    "claims.create:draft": (LOGIN, 404, 422, 422, WAITING, LOGIN, WAITING),
    "claims.create:pending": (LOGIN, 404, 422, 422, WAITING, LOGIN, WAITING),
    "listings.new": (LOGIN, 422, 422, HOME, WAITING, LOGIN, WAITING),
    "listings.edit:published": EDIT_PUBLISHED,
    "listings.edit:draft": EDIT_PRIVATE,
    "listings.edit:pending": EDIT_PRIVATE,
    "listings.withdraw:published": EDIT_PUBLISHED,
    "listings.withdraw:draft": EDIT_PRIVATE,
    "listings.withdraw:pending": EDIT_PRIVATE,
    "listings.relist:published": EDIT_PUBLISHED,
    "listings.relist:draft": EDIT_PRIVATE,
    "listings.relist:pending": EDIT_PRIVATE,
    # "Post similar": colleagues who may post; a platform admin has no organisation to post for.
    # Following is for colleagues of the listing's organisation only.
    "listings.follow:published": (LOGIN, 403, ANY, ANY, WAITING, LOGIN, WAITING),
    "listings.follow:draft": (LOGIN, 404, ANY, ANY, WAITING, LOGIN, WAITING),
    "listings.follow:pending": (LOGIN, 404, ANY, ANY, WAITING, LOGIN, WAITING),
    "listings.copy:published": (LOGIN, 403, ANY, 403, 403, LOGIN, 404),
    "listings.copy:draft": (LOGIN, 404, ANY, 403, 404, LOGIN, 404),
    "listings.copy:pending": (LOGIN, 404, ANY, 403, 404, LOGIN, 404),
    "reports.report_listing:published": (LOGIN, 422, 403, ANY, WAITING, LOGIN, WAITING),
    "reports.report_listing:draft": (LOGIN, 404, 403, ANY, WAITING, LOGIN, WAITING),
    "reports.report_listing:pending": (LOGIN, 404, 403, ANY, WAITING, LOGIN, WAITING),
    "wanted.new": (LOGIN, 422, 422, ANY, WAITING, LOGIN, WAITING),
    # Without a photo; platform admins without an organisation do not post.
    "staged_photos.stage": (LOGIN, 400, 400, 403, WAITING, LOGIN, WAITING),
    # A staged photo is its uploader's alone (a member of A who is none of the roles).
    "staged_photos.remove": (LOGIN, 404, 404, 404, WAITING, LOGIN, WAITING),
    "wanted.close": (LOGIN, 403, ANY, ANY, WAITING, LOGIN, WAITING),
    "wanted.answer": (LOGIN, ANY, ANY, ANY, WAITING, LOGIN, WAITING),
}

# Routes the walkers leave out, each with the reason. (None so far: every route is walked.)
NOT_WALKED: dict[str, str] = {}


def expected_for(rule: Rule, variant: str, method: str) -> tuple:
    """What each role gets; the platform's and organisations' pages follow one rule each."""
    table = EXPECTED_GET if method == "GET" else EXPECTED_POST
    for key in (f"{rule.endpoint}:{variant}", rule.endpoint):
        if key in table:
            return table[key]
    if rule.endpoint.startswith("admin."):
        return PLATFORM if method == "GET" else (LOGIN, 403, 403, ANY, 403, LOGIN, 403)
    if rule.rule.startswith("/organisations/<int:organisation_id>/"):
        return ORGANISATION if method == "GET" else (LOGIN, 403, ANY, ANY, 403, LOGIN, 403)
    raise AssertionError(f"no expected status for {method} {rule.rule} ({rule.endpoint}): "
                         "add it to EXPECTED_GET/EXPECTED_POST, or to NOT_WALKED with a reason")


def assert_answer(answer: Answer, expected, url: str) -> None:
    if expected is ANY:
        assert answer.status < 500, url
        return
    if isinstance(expected, tuple):
        status, location = expected
        assert answer.status == status, (url, answer.status, answer.headers.get("Location"))
        assert answer.headers["Location"].startswith(location), url
        if location == "/":
            assert not answer.headers["Location"].startswith("/auth/login"), url
        return
    assert answer.status == expected, (url, answer.status, answer.headers.get("Location"))


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    return build_world(make_org, make_user, make_listing)


def walked(app, method: str) -> list[Rule]:
    return [rule for rule in rules_with(app, method) if rule.endpoint not in NOT_WALKED]


def test_every_route_has_an_expected_answer_for_every_role(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for method in ("GET", "POST"):
        for rule in walked(app, method):
            for variant in variants(rule):
                assert len(expected_for(rule, variant, method)) == len(ROLES)
    named = [*EXPECTED_GET, *EXPECTED_POST, *NOT_WALKED, *NO_CSRF_TOKEN]
    stale = {key.split(":")[0] for key in named} - {
        rule.endpoint for rule in app.url_map.iter_rules()}
    assert not stale, f"routes that no longer exist: {stale}"
    assert len(walked(app, "GET")) >= 50 and len(walked(app, "POST")) >= 50


# Pages of organisation A's private things, and what an insider must find on them (so a
# page that shows nothing cannot pass the outsiders' part).
INSIDER_SEES = {
    "listings.show:draft": SECRET_DRAFT,
    "listings.edit:draft": SECRET_DRAFT,
    "listings.show:pending": SECRET_PENDING,
    "claims.show": SECRET_MESSAGE_GIVER,
}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_expected_and_leaks_nothing(app, world, role):
    """Every page, then every action with an empty form (CSRF is tested apart): outsiders are
    refused and change nothing; those who may act get a form error or act; never a 500."""
    client = client_for(app, role, world)
    user = None if role == "anonymous" else world.users[role]
    insider = role in ("org_admin", "platform_admin")
    before = database_state(except_user=user)
    pages = 0
    for rule in walked(app, "GET"):
        for variant in variants(rule):
            url = url_for_rule(rule, world, variant)
            answer = fetch(client, "GET", url)
            assert_answer(answer, expected_for(rule, variant, "GET")[ROLES.index(role)], url)
            if not insider:
                for secret in SECRETS_OF_A:
                    assert secret not in answer.body, (url, secret)
            elif answer.status == 200:
                secret = INSIDER_SEES.get(f"{rule.endpoint}:{variant}",
                                          INSIDER_SEES.get(rule.endpoint))
                assert secret is None or secret in answer.body, (url, secret)
            pages += 1
    assert pages >= 60
    assert database_state(except_user=user) == before  # reading never changes anything

    logout = None
    for rule in walked(app, "POST"):
        if rule.endpoint == "auth.logout":
            logout = rule  # last: it ends the session the walk uses
            continue
        for variant in variants(rule):
            url = url_for_rule(rule, world, variant)
            answer = fetch(client, "POST", url, data={})
            assert_answer(answer, expected_for(rule, variant, "POST")[ROLES.index(role)], url)
            if not insider:
                for secret in SECRETS_OF_A:
                    assert secret not in answer.body, (url, secret)
    if not insider:
        assert database_state(except_user=user) == before
    assert logout is not None
    assert_answer(fetch(client, "POST", logout.rule), EXPECTED_POST["auth.logout"][
        ROLES.index(role)], logout.rule)
    assert fetch(client, "GET", "/account/").status == 302  # logged out (or never in)


# --- IDOR: the ids of another organisation's things ------------------------------------------

def listing_form(world: World, **overrides: str) -> dict[str, object]:
    return builders.listing_form(
        world.a.organisation, title="Overgenomen!",
        description="Door een buitenstaander aangepast.",
        category=str(category_id("furniture")), quantity="1", submit="", save_draft="Save",
        available_until=(date.today() + timedelta(days=20)).isoformat(), **overrides)


def private_actions(world: World, target) -> list[tuple[str, str, dict[str, str], bool]]:
    """(method, URL, a complete and valid form, whether the route is open to anonymous
    visitors) for everything of `target` an outsider might try to read or change by putting
    its id in a URL."""
    actions: list[tuple[str, str, dict[str, str], bool]] = []
    claim = target.claim.id
    for kind in ("draft", "pending"):
        listing = target.listings[kind].id
        actions += [
            ("GET", f"/listings/{listing}", {}, True),
            ("GET", f"/listings/{listing}/edit", {}, False),
            ("POST", f"/listings/{listing}/edit", listing_form(world), False),
            ("GET", f"/listings/{listing}/withdraw", {}, False),
            ("POST", f"/listings/{listing}/withdraw", {}, False),
            ("POST", f"/listings/{listing}/withdraw", {"confirmed": "yes"}, False),
            ("POST", f"/listings/{listing}/relist",
             {"available_until": (date.today() + timedelta(days=10)).isoformat()}, False),
            ("POST", f"/listings/{listing}/claim", {"quantity": "1", "message": "Mag ik?"},
             False),
            ("GET", f"/listings/{listing}/report", {}, False),
            ("POST", f"/listings/{listing}/report", {"reason": "other", "text": "Vreemd"},
             False),
        ]
        actions += [("GET", f"/photos/{name}", {}, True)
                    for name in stored_photo_names(target.photos[kind])]
    actions += [
        ("GET", f"/claims/{claim}", {}, False),
        ("POST", f"/claims/{claim}/messages", {"body": "Ik lees mee"}, False),
        ("POST", f"/claims/{claim}/accept", {"note": "Prima"}, False),
        ("POST", f"/claims/{claim}/decline", {"note": "Nee"}, False),
        ("GET", f"/claims/{claim}/cancel", {}, False),
        ("POST", f"/claims/{claim}/cancel", {"confirmed": "yes"}, False),
        ("POST", f"/claims/{claim}/collected", {}, False),
        ("POST", f"/alerts/{target.alert.id}/pause", {}, False),
        ("POST", f"/alerts/{target.alert.id}/delete", {}, False),
        ("POST", f"/alerts/{target.alert.id}/frequency", {"frequency": "daily"}, False),
        ("POST", f"/wanted/{target.wanted.id}/withdraw", {}, False),
        ("POST", f"/wanted/{target.wanted.id}/fulfilled", {}, False),
    ]
    return actions


# attacker, and whose things they try: a member and an admin of B against A, A's admin against B
ATTACKS = [("outsider", "a"), ("admin_of_b", "a"), ("org_admin", "b"), ("anonymous", "a"),
           ("pending_member", "a"), ("deactivated_member", "a")]


def test_ids_of_another_organisations_private_things_are_refused(app, world):
    clients = {attacker: client_for(app, attacker, world) for attacker, _victim in ATTACKS}
    before = database_state()
    mail_before = len(outbox())
    for attacker, victim in ATTACKS:
        target = getattr(world, victim)
        client = clients[attacker]
        private_texts = [target.listings["draft"].title, target.listings["pending"].title,
                         *(message.body for message in target.messages), target.alert.words]
        for method, url, data, public in private_actions(world, target):
            answer = fetch(client, method, url, data=data)
            where = (attacker, method, url, answer.status)
            if attacker in ("anonymous", "deactivated_member") and not public:
                assert answer.status == 302, where
                assert answer.headers["Location"].startswith("/auth/login?next="), where
            elif answer.status == 302:  # the page that says what the account waits for
                assert attacker == "pending_member", where
                assert answer.headers["Location"] == "/account/waiting", where
            else:
                assert answer.status in (403, 404), where
            for text in private_texts:
                assert text not in answer.body, (*where, text)
    assert database_state() == before
    assert len(outbox()) == mail_before

    # A 404 for an unknown id and for another organisation's draft, with the same page: an
    # outsider cannot tell which ids exist.
    client = client_for(app, "outsider", world)
    fetch(client, "GET", "/")  # the welcome message is shown once, here
    draft = world.a.listings["draft"].id
    for path in ("/listings/{}", "/listings/{}/edit", "/listings/{}/report"):
        unknown = fetch(client, "GET", path.format(999_999))
        existing = fetch(client, "GET", path.format(draft))
        assert (unknown.status, existing.status) == (404, 404), path
        # The same page, but for the path it echoes (the language switch's way back) and the
        # CSRF tokens, which carry the second they were signed in.
        assert without_csrf_tokens(unknown.body.replace("999999", str(draft))) \
            == without_csrf_tokens(existing.body), path


def without_csrf_tokens(page: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", page)


def test_the_owners_can_do_what_outsiders_were_refused(app, world):
    """The refusals above are about who asks: the same requests by A's own people succeed."""
    admin = client_for(app, "org_admin", world)
    draft = world.a.listings["draft"]
    for name in stored_photo_names(world.a.photos["draft"]):
        assert fetch(admin, "GET", f"/photos/{name}").status == 200
    answer = fetch(admin, "POST", f"/listings/{draft.id}/edit", data=listing_form(world))
    assert answer.status == 302
    answer = fetch(admin, "POST", f"/claims/{world.a.claim.id}/messages",
                   data={"body": "Tot morgen"})
    assert answer.status == 302
    assert "Tot morgen" in fetch(admin, "GET", f"/claims/{world.a.claim.id}").body
    claimant = client_for(app, "claimant", world)
    page = fetch(claimant, "GET", f"/claims/{world.a.claim.id}").body
    assert SECRET_MESSAGE_GIVER in page and SECRET_MESSAGE_CLAIMANT in page
    member = client_for(app, "member_of_a", world)
    assert fetch(member, "POST", f"/alerts/{world.a.alert.id}/pause").status == 302


# --- CSRF --------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(make_app):
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application


@pytest.fixture
def csrf_world(csrf_app, make_org, make_user, make_listing) -> World:
    return build_world(make_org, make_user, make_listing)


def logged_in_with_token(app, user):
    """Log in through the form, with its token, as a browser does."""
    client = app.test_client()
    token = csrf_token(fetch(client, "GET", "/auth/login").body)
    from helpers import PASSWORD

    answer = fetch(client, "POST", "/auth/login",
                   data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert answer.status == 302
    return client


# Who would be allowed to use each route, so the token is what refuses them.
def rightful_role(rule: Rule) -> str:
    if rule.endpoint.startswith("admin."):
        return "platform_admin"
    if rule.endpoint in ("claims.create", "reports.report_listing", "wanted.answer"):
        return "outsider"
    if rule.endpoint.startswith(("alerts.", "wanted.close")):
        return "member_of_a"
    return "org_admin"


# POSTs that need no CSRF token, each with the reason; without their own proof they are refused
# (400) and change nothing all the same.
NO_CSRF_TOKEN = {
    "account.unsubscribe": "mail providers post the one click (RFC 8058) with the signed link "
                           "and the body List-Unsubscribe=One-Click, never a token",
}


def test_every_post_without_its_token_is_refused_and_changes_nothing(csrf_app, csrf_world):
    world = csrf_world
    clients = {role: logged_in_with_token(csrf_app, world.users[role])
               for role in ("platform_admin", "outsider", "member_of_a", "org_admin")}
    anonymous = csrf_app.test_client()
    forms = {"claims.create": {"quantity": "1"}, "claims.message": {"body": "Hallo"},
             "alerts.frequency": {"frequency": "daily"},
             "auth.login": {"email": world.users["org_admin"].email, "password": "x"},
             "main.switch_language": {"language": "nl"}}
    before = database_state()
    mail_before = len(outbox())
    checked = 0
    for rule in rules_with(csrf_app, "POST"):
        for variant in variants(rule):
            url = url_for_rule(rule, world, variant)
            for client in (clients[rightful_role(rule)], anonymous):
                answer = fetch(client, "POST", url, data=forms.get(rule.endpoint, {}))
                assert answer.status == 400, (url, answer.status)
                if rule.endpoint not in NO_CSRF_TOKEN:
                    assert "This form had expired" in answer.body, url
                checked += 1
    assert checked >= 120
    assert database_state() == before
    assert len(outbox()) == mail_before
    # Still logged in: logout without a token did not log anyone out.
    for client in clients.values():
        assert fetch(client, "GET", "/account/").status == 200


def test_the_claim_message_and_logout_forms_work_with_their_token(csrf_app, csrf_world):
    world = csrf_world
    claimant = logged_in_with_token(csrf_app, world.users["outsider"])
    listing = world.a.listings["published"]
    page = fetch(claimant, "GET", f"/listings/{listing.id}").body
    answer = fetch(claimant, "POST", f"/listings/{listing.id}/claim",
                   data={"quantity": "1", "csrf_token": csrf_token(page)})
    assert answer.status == 302 and answer.headers["Location"].startswith("/claims/")
    claim_url = answer.headers["Location"]
    page = fetch(claimant, "GET", claim_url).body
    answer = fetch(claimant, "POST", f"{claim_url}/messages",
                   data={"body": "Kan ik dinsdag komen?", "csrf_token": csrf_token(page)})
    assert answer.status == 302
    assert "Kan ik dinsdag komen?" in fetch(claimant, "GET", claim_url).body
    assert outbox("claim_message")

    # A token is bound to its session: one taken from another member's page does not work.
    other = logged_in_with_token(csrf_app, world.users["org_admin"])
    stolen = csrf_token(fetch(other, "GET", "/account/").body)
    assert fetch(claimant, "POST", "/auth/logout", data={"csrf_token": stolen}).status == 400
    assert fetch(claimant, "GET", "/account/").status == 200

    page = fetch(claimant, "GET", "/").body
    answer = fetch(claimant, "POST", "/auth/logout", data={"csrf_token": csrf_token(page)})
    assert answer.status == 302
    assert fetch(claimant, "GET", "/account/").status == 302


def test_posting_a_listing_works_with_its_token(csrf_app, make_user):
    user = make_user()
    client = logged_in_with_token(csrf_app, user)
    token = csrf_token(fetch(client, "GET", "/listings/new").body)
    data = builders.listing_form(
        user, title="Douchestoelen met token", description="Zes douchestoelen.",
        category=str(category_id("furniture")), quantity="6",
        available_until=(date.today() + timedelta(days=20)).isoformat(),
        photos=[(GOOD / "hopper_gray.jpg", "stoel.jpg")],
        csrf_token=token)
    answer = fetch(client, "POST", "/listings/new", data=data,
                   content_type="multipart/form-data")
    assert answer.status == 302, answer.body
    assert "Douchestoelen met token" in fetch(client, "GET", answer.headers["Location"]).body
