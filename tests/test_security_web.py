"""Web attacks on the pages themselves: off-site redirects through `next`, session fixation and
replayed session cookies, finding out which addresses have an account, script in what members
write, and header injection in the email that text ends up in.

(Every route walked by every role, IDOR and CSRF: test_security_routes.py.)
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import date, timedelta
from urllib.parse import quote, urljoin, urlsplit

import pytest
from builders import category_id, listing_form
from helpers import PASSWORD, SHARED_TESTDATA, AuthActions, csrf_token, link_in, outbox
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Claim,
    Listing,
    ListingStatus,
    Organisation,
    OutboxMessage,
    Role,
    User,
    UserStatus,
    Wanted,
)
from marketplace.services import accounts, passwords
from marketplace.services.mail import build_message

# --- the login `next` parameter never leads off-site -----------------------------------------

OFF_SITE = [
    "//evil.example", "///evil.example", "////evil.example", "https://evil.example",
    "http://evil.example/", "https:evil.example", "http:/evil.example", "https:\\\\evil.example",
    "/\\evil.example", "\\\\evil", "\\/\\/evil.example", "/\\/evil.example",
    "%2F%2Fevil.example", "%2f%2fevil.example", "/%2F/evil.example", "/%5Cevil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
    " //evil.example", "\n//evil.example", "/%09/evil.example", "/%0d%0a/evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
    " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "//localhost@evil.example", "http://localhost@evil.example", "evil.example",
    "@evil.example", "\uff0f\uff0fevil.example", "/\u3002evil.example",
]
LOCAL = "/listings/?q=rolstoel&province=utrecht"


def lands_on_this_site(location: str) -> bool:
    """Where a browser goes with this Location: it drops tabs and line breaks and reads
    backslashes as slashes, so the check does the same."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    target = urlsplit(urljoin("http://localhost/auth/login", cleaned))
    return target.scheme == "http" and target.hostname == "localhost"


def test_logging_in_never_redirects_off_site_whatever_next_says(client, auth, make_user):
    user = make_user()
    for target in OFF_SITE:
        response = auth.login(user, next=target)
        assert response.status_code == 302, target
        assert lands_on_this_site(response.headers["Location"]), (target, response.headers)
        auth.logout()
    response = auth.login(user, next=LOCAL)
    assert response.headers["Location"] == LOCAL


def test_the_login_page_of_a_logged_in_member_never_redirects_off_site(make_user, login_as):
    client = login_as(make_user())
    for target in OFF_SITE:
        response = client.get("/auth/login", query_string={"next": target})
        assert response.status_code == 302, target
        assert lands_on_this_site(response.headers["Location"]), (target, response.headers)
    assert client.get("/auth/login", query_string={"next": LOCAL}).headers["Location"] == LOCAL


def test_the_language_switch_never_redirects_off_site(client):
    for target in OFF_SITE:
        response = client.post("/language", data={"language": "en", "next": target})
        assert response.status_code == 302, target
        assert lands_on_this_site(response.headers["Location"]), (target, response.headers)
    response = client.post("/language", data={"language": "en", "next": LOCAL})
    assert response.headers["Location"] == LOCAL


def test_the_login_link_of_a_protected_page_keeps_the_page_and_leads_back_to_it(
    client, auth, make_user
):
    user = make_user()
    response = client.get("/account/password?tab=x")
    assert response.headers["Location"].startswith("/auth/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    next_value = re.search(r'name="next"[^>]*value="([^"]*)"', page).group(1)
    assert auth.login(user, next=next_value.replace("&amp;", "&")).headers["Location"] == \
        "/account/password?tab=x"


# --- the session is renewed at login and ends at logout --------------------------------------

@pytest.fixture
def csrf_app(make_app):
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_session_planted_before_login_is_worthless_to_whoever_planted_it(csrf_app, make_user):
    user = make_user()
    attacker = csrf_app.test_client()
    attacker_token = csrf_token(attacker.get("/auth/login").get_data(as_text=True))
    planted = session_cookie(attacker)

    victim = csrf_app.test_client()
    victim.set_cookie("session", planted)  # fixation: the victim's browser gets the cookie
    page = victim.get("/auth/login").get_data(as_text=True)
    response = victim.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                "csrf_token": csrf_token(page)})
    assert response.status_code == 302

    assert session_cookie(victim) != planted
    assert victim.get("/account/").status_code == 200
    # The attacker's copy is still anonymous, and the token they knew no longer works for
    # the victim (it belonged to the session that login replaced).
    assert attacker.get("/account/").status_code == 302
    assert victim.post("/auth/logout", data={"csrf_token": attacker_token}).status_code == 400
    assert victim.get("/account/").status_code == 200


def test_the_session_cookie_changes_at_login(client, auth, make_user):
    client.post("/language", data={"language": "en"})
    with client.session_transaction() as session:
        session["visited"] = True  # an anonymous session that exists before logging in
    before = session_cookie(client)
    auth.login(make_user())
    assert session_cookie(client) != before


def test_a_copy_of_the_session_cookie_stops_working_at_logout(app, make_user, login_as):
    client = login_as(make_user())
    copied = session_cookie(client)
    client.post("/auth/logout")

    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_a_password_change_renews_the_session_and_ends_copies_of_the_old_one(
    app, make_user, login_as
):
    client = login_as(make_user())
    copied = session_cookie(client)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "nieuw-lang-wachtwoord-7"})
    assert response.status_code == 302
    assert session_cookie(client) != copied
    assert client.get("/account/").status_code == 200  # this browser stays logged in

    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/account/").status_code == 302


def test_a_session_cookie_forged_without_the_secret_key_is_ignored(app, make_user):
    user = make_user()
    interface = app.session_interface
    forger = URLSafeTimedSerializer("a-guessed-secret", salt=interface.salt,
                                    serializer=interface.serializer,
                                    signer_kwargs={"key_derivation": interface.key_derivation,
                                                   "digest_method": interface.digest_method})
    client = app.test_client()
    client.set_cookie("session", forger.dumps({"_user_id": user.get_id(), "_fresh": True}))
    assert client.get("/account/").status_code == 302


def test_the_session_cookie_holds_no_password_hash_or_address(app, make_user, login_as):
    user = make_user()
    client = login_as(user)
    data = app.session_interface.get_signing_serializer(app).loads(session_cookie(client))
    assert data["_user_id"] == user.get_id()
    text = repr(data)
    assert user.password_hash not in text and user.email not in text


# Each value of the session cookie is verified once per process (session_cookie.py) and each
# session's CSRF token signed once (csrf_tokens.py): what was kept must check what Flask and
# Flask-WTF check at every request.

def later(monkeypatch, seconds: float) -> None:
    """The clock `seconds` on, for itsdangerous and the app alike."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def test_a_session_cookie_read_before_still_ends_with_its_lifetime(app, make_user, login_as,
                                                                   monkeypatch):
    client = login_as(make_user())
    assert client.get("/account/").status_code == 200  # its value read and kept
    lifetime = app.permanent_session_lifetime.total_seconds()

    later(monkeypatch, lifetime - 60)
    assert client.get("/account/").status_code == 200
    later(monkeypatch, lifetime + 60)
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_a_session_cookie_altered_after_it_was_read_is_refused(app, make_user, login_as):
    client = login_as(make_user())
    assert client.get("/account/").status_code == 200
    value = session_cookie(client)
    assert client.get("/account/").status_code == 200  # this value read and kept
    assert session_cookie(client) == value
    payload, _dot, signature = value.rpartition(".")
    altered = app.test_client()
    altered.set_cookie("session", f"{payload}.{signature[::-1]}")
    assert altered.get("/account/").status_code == 302


def test_a_list_in_one_request_s_session_never_shows_in_another_s(app):
    """Flask changes a session's list in place (flashed messages): two requests with the same
    cookie each read their own."""
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"_flashes": [["info", "Saved."]]})
    sessions = []
    for _ in range(2):
        with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as context:
            sessions.append(interface.open_session(app, context.request))
    sessions[0]["_flashes"].append(["info", "Saved again."])
    assert sessions[1]["_flashes"] == [["info", "Saved."]]


def csrf_clients(make_app, make_user, count: int, **settings):
    """Members logged in, each in their own browser, to an app checking CSRF tokens. No
    application context is held across their requests: each has its own `g`, as when served."""
    application = make_app(WTF_CSRF_ENABLED=True, **settings)
    with application.app_context():
        addresses = [make_user().email for _ in range(count)]
    clients = []
    for address in addresses:
        client = application.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        response = client.post("/auth/login", data={"email": address, "password": PASSWORD,
                                                    "csrf_token": csrf_token(page)})
        assert response.status_code == 302
        clients.append(client)
    return clients


def test_each_session_has_its_own_csrf_token_on_every_page(make_app, make_user):
    first, second = csrf_clients(make_app, make_user, 2)
    for client in (first, second):  # each session's token made, the next pages sign none
        client.get("/listings/")
    tokens = [csrf_token(first.get(path).get_data(as_text=True))
              for path in ("/listings/?q=bed", "/account/", "/listings/?q=bed")]
    assert len(set(tokens)) == 1
    other = csrf_token(second.get("/listings/?q=bed").get_data(as_text=True))
    assert other != tokens[0]

    assert second.post("/auth/logout", data={"csrf_token": tokens[0]}).status_code == 400
    assert second.post("/auth/logout", data={"csrf_token": other}).status_code == 302
    assert first.post("/auth/logout", data={"csrf_token": tokens[0]}).status_code == 302


def test_a_csrf_token_with_a_time_limit_is_signed_for_each_page(make_app, make_user,
                                                               monkeypatch):
    (client,) = csrf_clients(make_app, make_user, 1, WTF_CSRF_TIME_LIMIT=600)
    assert csrf_token(client.get("/listings/?q=bed").get_data(as_text=True))
    later(monkeypatch, 900)  # the first page's token has expired; a new page's has not
    token = csrf_token(client.get("/listings/?q=bed").get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302


# --- whether an address has an account is never told ----------------------------------------

KNOWN = "known@example.org"
UNKNOWN = "other@example.org"  # as long as KNOWN, so the pages are byte for byte comparable
PER_REQUEST_HEADERS = {"Date", "X-Request-ID", "Set-Cookie"}


def observed(response, address: str) -> tuple:
    """What an attacker sees of an answer, with the address they typed taken out."""
    headers = sorted((name, value) for name, value in response.headers.items()
                     if name not in PER_REQUEST_HEADERS)
    # Cookies: their names and attributes (the signed value differs with the address).
    cookies = sorted(re.sub(r"^([^=]+)=[^;]*", r"\1=…", value)
                     for value in response.headers.getlist("Set-Cookie"))
    body = response.get_data(as_text=True).replace(address, "<address>")
    body = re.sub(r'(name="csrf_token" value=")[^"]*', r"\1…", body)  # random per session
    return response.status_code, headers, cookies, body


def both_ways(app, path: str, form) -> tuple[tuple, tuple]:
    """The answer to the form with the known and with the unknown address, each in a fresh
    browser, and the page it leads to."""
    answers = []
    for address in (KNOWN, UNKNOWN):
        client = app.test_client()
        response = client.post(path, data=form(address))
        answers.append((observed(response, address),
                        observed(client.get(response.headers["Location"]), address)
                        if response.status_code == 302 else None))
    return answers[0], answers[1]


def test_password_reset_answers_the_same_for_a_known_and_an_unknown_address(app, make_user):
    make_user(KNOWN)
    known, unknown = both_ways(app, "/auth/forgot-password", lambda address: {"email": address})
    assert known == unknown
    assert known[0][0] == 302
    assert "If that address has an account" in known[1][3]
    assert [mail.template for mail in outbox(to=KNOWN)] == ["reset_password"]
    assert outbox(to=UNKNOWN) == []


def test_resending_a_confirmation_answers_the_same_for_known_and_unknown(app, make_user):
    make_user(KNOWN, confirmed=False)
    known, unknown = both_ways(app, "/auth/confirm", lambda address: {"email": address})
    assert known == unknown
    assert [mail.template for mail in outbox(to=KNOWN)] == ["confirm_email"]
    assert outbox(to=UNKNOWN) == []


def join_form(organisation_id: int):
    return lambda address: {"name": "Sanne de Boer", "email": address, "password": PASSWORD,
                            "language": "en", "organisation_choice": "existing",
                            "organisation": str(organisation_id)}


def new_organisation_form(**overrides: str):
    def form(address: str) -> dict[str, str]:
        return {"name": "Youssef Amrani", "email": address, "password": PASSWORD,
                "language": "en", "organisation_choice": "new",
                "organisation_name": "Zorghuis Het Anker", "organisation_kind": "elderly_care",
                "kvk_number": "41234567", "site_name": "Hoofdgebouw", "street": "Ankerweg 3",
                "postcode": "8011ab", "city": "Zwolle", "province": "overijssel", **overrides}
    return form


def test_signing_up_answers_the_same_for_a_known_and_an_unknown_address(app, make_org,
                                                                         make_user):
    organisation = make_org()
    make_user(KNOWN, organisation=organisation)
    known, unknown = both_ways(app, "/auth/signup", join_form(organisation.id))
    assert known == unknown
    assert known[0][0] == 302 and "<address>" in known[1][3]  # "we have sent an email to …"
    assert [mail.template for mail in outbox(to=KNOWN)] == ["account_exists"]
    assert [mail.template for mail in outbox(to=UNKNOWN)] == ["confirm_email"]


@pytest.mark.parametrize("overrides", [
    {"organisation_name": "Zorginstelling Bestaand"},  # registered already
    {"kvk_number": "123"},
    {"postcode": "nonsense"},
    {"organisation_kind": "casino"},
], ids=["taken-name", "bad-kvk", "bad-postcode", "bad-kind"])
def test_a_refused_new_organisation_is_refused_alike_for_known_and_unknown_addresses(
    app, make_org, make_user, overrides
):
    make_org("Zorginstelling Bestaand")
    make_user(KNOWN)
    organisations = db.session.scalar(select(db.func.count(Organisation.id)))

    known, unknown = both_ways(app, "/auth/signup", new_organisation_form(**overrides))

    assert known == unknown
    assert known[0][0] == 422
    assert db.session.scalar(select(db.func.count(Organisation.id))) == organisations
    assert outbox() == []


def test_signing_up_with_a_known_address_does_the_same_work_as_with_a_new_one(
    app, make_org, make_user, monkeypatch
):
    """The time an answer takes must not tell either: the password is hashed both times."""
    organisation = make_org()
    make_user(KNOWN, organisation=organisation)
    hashed: list[str] = []
    real_hash = accounts.registration.hash_password
    # Replaced where sign_up reads it (on the accounts package it would change nothing).
    monkeypatch.setattr(accounts.registration, "hash_password",
                        lambda password: hashed.append(password) or real_hash(password))
    for address in (KNOWN, UNKNOWN):
        hashed.clear()
        app.test_client().post("/auth/signup", data=join_form(organisation.id)(address))
        assert hashed == [PASSWORD], address


def test_logging_in_with_an_unknown_address_checks_a_password_hash_too(
    app, make_user, monkeypatch
):
    make_user(KNOWN)
    checks: list[str] = []
    real_check = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda stored, password: checks.append(password)
                        or real_check(stored, password))
    for address in (KNOWN, UNKNOWN):
        checks.clear()
        response = AuthActions(app.test_client()).login(address, "fout-wachtwoord-123")
        assert response.status_code == 401
        assert checks == ["fout-wachtwoord-123"], address


# --- what members write is shown inert everywhere -----------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
LINK = '<a href="javascript:alert(1)">klik</a>'
HOSTILE = f"{IMG}{SCRIPT} {LINK} javascript:alert(1)"
SHOWN_ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")


def assert_inert(html: str, where: str, *, shown: bool = True) -> None:
    lowered = html.lower()
    assert "<script>alert(1)" not in lowered, where
    assert "<img src=x" not in lowered, where
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", lowered), where
    assert "onerror=alert(1)>" not in lowered, where
    if shown:  # the text is there, escaped: the check above looked at the right page
        assert any(escaped in html for escaped in SHOWN_ESCAPED), where


def assert_policy(response, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, where
    assert "object-src 'none'" in policy, where


@pytest.fixture
def hostile(app, make_org, make_user, make_listing, login_as):
    """A giver whose organisation, name, listing, messages and wanted post all carry script,
    and a claimant who writes some too, through the pages they use."""
    organisation = make_org(f"Zorg {IMG}"[:120])
    giver = make_user(organisation=organisation, role=Role.ORG_ADMIN, name=f"Gea {SCRIPT}")
    listing = make_listing(f"Rolstoel {IMG}{SCRIPT}"[:120], organisation=organisation,
                           description=f"Goede rolstoel. {HOSTILE}", created_by_id=giver.id)
    held = make_listing(f"Tabletten {SCRIPT}", organisation=organisation,
                        status=ListingStatus.PENDING_REVIEW, held_words="tabletten",
                        description=f"Doosjes tabletten {HOSTILE}", created_by_id=giver.id)
    claimant = make_user(name=f"Cees {IMG}")
    platform_admin = make_user(role=Role.PLATFORM_ADMIN)
    clients = {"giver": login_as(giver), "claimant": login_as(claimant),
               "platform_admin": login_as(platform_admin)}
    response = clients["claimant"].post(f"/listings/{listing.id}/claim",
                                        data={"quantity": "1", "message": HOSTILE})
    assert response.status_code == 302
    claim = db.session.scalar(select(Claim))
    assert clients["giver"].post(f"/claims/{claim.id}/messages",
                                 data={"body": HOSTILE}).status_code == 302
    response = clients["claimant"].post("/wanted/new", data={
        "title": f"Tillift {SCRIPT}", "description": HOSTILE, "quantity": "1",
        "needed_by": (date.today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    return {"clients": clients, "listing": listing, "held": held, "claim": claim,
            "organisation": organisation, "claimant": claimant,
            "wanted": db.session.scalar(select(Wanted))}


def test_script_in_members_text_is_shown_inert_on_every_page_it_appears(app, hostile):
    listing, claim, wanted = hostile["listing"], hostile["claim"], hostile["wanted"]
    organisation = hostile["organisation"]
    pages = {
        "anonymous": ["/", "/listings/?q=rolstoel", f"/listings/{listing.id}"],
        "claimant": ["/", "/listings/?q=rolstoel", f"/listings/{listing.id}",
                     f"/claims/{claim.id}", "/claims/?tab=made", "/wanted/",
                     f"/wanted/{wanted.id}"],
        "giver": [f"/listings/{listing.id}", f"/listings/{listing.id}/edit",
                  f"/listings/{hostile['held'].id}", f"/claims/{claim.id}",
                  "/claims/?tab=received", "/listings/mine", f"/wanted/{wanted.id}",
                  f"/organisations/{organisation.id}/members"],
        "platform_admin": ["/admin/listings", f"/admin/listings/{hostile['held'].id}",
                           "/admin/organisations", f"/admin/organisations/{organisation.id}",
                           "/admin/users", f"/admin/users/{hostile['claimant'].id}"],
    }
    for who, paths in pages.items():
        client = app.test_client() if who == "anonymous" else hostile["clients"][who]
        for path in paths:
            response = client.get(path)
            where = f"{who} {path}"
            assert response.status_code == 200, where
            assert_inert(response.get_data(as_text=True), where)
            assert_policy(response, where)


def test_the_watch_word_highlight_escapes_the_text_around_it(app, hostile):
    page = hostile["clients"]["platform_admin"].get(f"/admin/listings/{hostile['held'].id}")
    html = page.get_data(as_text=True)
    assert_inert(html, "review page")
    assert re.search(r"<mark>tabletten</mark>", html, re.IGNORECASE)


@pytest.mark.parametrize("path", [
    "/listings/?q=" + quote(f"rolstoel {SCRIPT}"),
    "/listings/?q=" + quote(IMG) + "&province=" + quote(IMG) + "&sort=" + quote(SCRIPT),
    "/auth/login?next=" + quote(IMG) + "&email=" + quote(IMG),
    "/auth/confirm?email=" + quote(IMG),
], ids=["search-words", "search-filters", "login", "resend-confirmation"])
def test_what_a_url_carries_is_reflected_inert(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_inert(response.get_data(as_text=True), path, shown=False)
    assert_policy(response, path)


def test_script_in_members_text_is_inert_in_the_html_of_every_email(app, hostile):
    messages = outbox()
    templates = {message.template for message in messages}
    assert {"claim_received", "claim_message"} <= templates
    for message in messages:
        assert_inert(message.body_html, message.template, shown=message.template in {
            "claim_received", "claim_message"})


# --- email headers cannot be injected -----------------------------------------------------------

INJECTION = "\r\nBcc: evil@example.org"
GOOD = SHARED_TESTDATA / "images" / "good"


def assert_one_header_block(message: OutboxMessage) -> None:
    """The subject is one line and the message as sent has no header but its own."""
    assert "\r" not in message.subject and "\n" not in message.subject, message.subject
    built = build_message(message)
    assert built.send_to == {message.recipient}
    raw = built.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["Cc"] is None, message.template
    # A subject that fits on a line of its own is folded before it ("Subject:" CRLF SP ...);
    # unfolding makes that "Subject: ...", but Python's parser keeps the space.
    assert [subject.lstrip() for subject in parsed.get_all("Subject")] == [message.subject]
    assert parsed.get_all("To") == [message.recipient]
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head), head


def test_a_listing_title_with_line_breaks_cannot_add_mail_headers(app, make_org, make_user,
                                                                  make_listing, login_as):
    giver = make_user(organisation=make_org(), role=Role.ORG_ADMIN)
    # Straight in the database, as if a form had let the line break through.
    listing = make_listing(f"Rolstoelen{INJECTION}\r\nATTENDEE:mailto:evil@example.org",
                           organisation=giver.organisation, created_by_id=giver.id)
    claimant = make_user()
    response = login_as(claimant).post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    assert response.status_code == 302
    claim = db.session.scalar(select(Claim))
    response = login_as(giver).post(f"/claims/{claim.id}/accept", data={
        "agreed_pickup_date": (date.today() + timedelta(days=2)).isoformat()})
    assert response.status_code == 302

    [received] = outbox("claim_received")
    [accepted] = outbox("claim_accepted")
    for message in (received, accepted):
        assert "evil@example.org" in message.subject  # kept as text, on the one line
        assert_one_header_block(message)
    calendar = build_message(accepted).attachments[0].data
    calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
    assert not re.search(r"(?m)^(ATTENDEE|BCC)", calendar), calendar


def test_a_title_typed_with_line_breaks_cannot_add_mail_headers(app, make_org, make_user,
                                                                login_as):
    organisation = make_org()
    poster = make_user(organisation=organisation)
    data = listing_form(
        poster, title=f"Rolstoelen{INJECTION}", description="Vier rolstoelen, nagekeken.",
        category=str(category_id("furniture")), quantity="4",
        available_until=(date.today() + timedelta(days=20)).isoformat(),
        photos=[(GOOD / "hopper.jpg", "rolstoel.jpg")])
    response = login_as(poster).post("/listings/new", data=data,
                                     content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.status is ListingStatus.PENDING_REVIEW
    response = login_as(make_user(role=Role.PLATFORM_ADMIN)).post(
        f"/admin/listings/{listing.id}/approve")
    assert response.status_code == 302

    [published] = outbox("listing_published")
    assert "evil@example.org" in published.subject
    for message in outbox():
        assert_one_header_block(message)


def test_a_name_with_line_breaks_cannot_add_mail_headers(app, make_org, make_user, client):
    organisation = make_org()
    make_user(organisation=organisation, role=Role.ORG_ADMIN)
    response = client.post("/auth/signup", data={
        **join_form(organisation.id)("eva@example.org"), "name": f"Eva{INJECTION}"})
    assert response.status_code == 302
    client.get(link_in(outbox("confirm_email")[0], "/auth/confirm/"))

    [request] = outbox("member_to_approve")
    assert "Bcc: evil@example.org wants to join" in request.subject
    for message in outbox():
        assert_one_header_block(message)


def test_an_organisation_name_with_line_breaks_cannot_add_mail_headers(app, make_user, client):
    make_user(role=Role.PLATFORM_ADMIN)
    response = client.post("/auth/signup", data=new_organisation_form(
        organisation_name=f"Zorghuis{INJECTION}")("youssef@example.org"))
    assert response.status_code == 302
    client.get(link_in(outbox("confirm_email")[0], "/auth/confirm/"))

    [request] = outbox("organisation_to_approve")
    assert "Zorghuis" in request.subject
    for message in outbox():
        assert_one_header_block(message)
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.name.like("Zorghuis%")))
    assert "\n" not in organisation.name and "\r" not in organisation.name
    user = db.session.scalar(select(User).where(User.email == "youssef@example.org"))
    assert user.status is UserStatus.ACTIVE
