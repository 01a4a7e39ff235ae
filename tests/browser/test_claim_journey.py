"""The claim journey in a real browser, with the mail read from a real SMTP server.

Member A posts; member B of another organisation, whose alert matches, gets the match email,
claims; A gets the claim email and accepts; B gets the address; they exchange a message; B
marks it collected. Debian's Chromium, driven by Playwright, against a live server on loopback.
"""

from __future__ import annotations

import email
import email.policy
import gc
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import PASSWORD, SHARED_TESTDATA
from werkzeug.serving import make_server

from marketplace.extensions import db
from marketplace.models import Alert, Claim, ClaimStatus, Language, Listing

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    # When the browser leaves a page while a photo is still streaming, Werkzeug's development
    # server can drop the response without closing its file: a ResourceWarning raised in the
    # server's thread, about the test server, not the application.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (make test installs it)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    """What a real SMTP server on loopback received."""

    port: int = 0
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):
        with self.arrived:
            self.messages.append(email.message_from_bytes(envelope.original_content,
                                                          policy=email.policy.default))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, to: str, subject_part: str, timeout: float = 10) -> \
            email.message.EmailMessage:
        def find() -> email.message.EmailMessage | None:
            return next((message for message in self.messages
                         if to in message["To"] and subject_part in message["Subject"]), None)

        with self.arrived:
            self.arrived.wait_for(lambda: find() is not None, timeout)
        found = find()
        assert found is not None, f"no mail to {to} about {subject_part!r}; got " + \
            repr([(m["To"], m["Subject"]) for m in self.messages])
        return found


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: email.message.EmailMessage, fragment: str) -> str:
    return next(url for url in re.findall(r"https?://\S+", text_of(message)) if fragment in url)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def live_server(make_app, mailbox) -> Iterator[tuple[str, object]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = make_app(BASE_URL=base_url, WTF_CSRF_ENABLED=True, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=mailbox.port, MAIL_DELIVER_AFTER_REQUEST=True)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, app
    server.shutdown()
    thread.join(5)
    gc.collect()  # collect what the server dropped now, inside this test (see pytestmark)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


def log_in(page, base_url: str, address: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_whole_claim_journey_in_a_browser(request, live_server, mailbox, browser,
                                              make_user, make_org, viewport):
    base_url, app = live_server
    with app.app_context():
        giver_organisation = make_org(name="Ziekenhuis Oost")
        giver_organisation.trusted = True
        giver = make_user("gerda@oost.example.org", organisation=giver_organisation,
                          name="Gerda Gever", language=Language.EN)
        taker = make_user("tim@west.example.org", name="Tim Nemer", language=Language.EN)
        db.session.add(Alert(user=taker, words="rolstoel"))
        db.session.commit()
        giver, taker = giver.email, taker.email
        street = giver_organisation.sites[0].street

    pages = []
    try:
        giver_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(giver_page)
        log_in(giver_page, base_url, giver)
        # A posts a listing with two photos.
        giver_page.goto(f"{base_url}/listings/new")
        giver_page.get_by_label("Title").fill("Rolstoelen, opvouwbaar")
        giver_page.get_by_label("Description").fill("Drie opvouwbare rolstoelen, nagekeken.")
        giver_page.get_by_label("Category").select_option(label="— Walkers and wheelchairs")
        giver_page.get_by_label("Quantity").fill("3")
        giver_page.get_by_label("Weight per unit in kg (optional)").fill("15")
        giver_page.get_by_label("Photos").set_input_files(
            [str(SHARED_TESTDATA / "images" / "good" / "hopper.jpg"),
             str(SHARED_TESTDATA / "images" / "good" / "exif_gps.jpg")])
        giver_page.get_by_role("button", name="Publish").click()
        giver_page.get_by_text("Your listing is published.").wait_for()

        # B's alert matches: the email links to the listing.
        match = mailbox.wait_for(taker, "Found for your alert: Rolstoelen")
        listing_url = link_in(match, "/listings/")
        taker_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(taker_page)
        log_in(taker_page, base_url, taker)
        taker_page.goto(listing_url)
        taker_page.get_by_label("How many do you need?").fill("2")
        taker_page.get_by_label("Message to the giver (optional)").fill("Voor locatie West")
        taker_page.get_by_role("button", name="Claim this").click()
        taker_page.get_by_text("Your claim has been sent.").wait_for()

        # A gets the claim by email and accepts it.
        claim_mail = mailbox.wait_for(giver, "New claim for Rolstoelen")
        giver_page.goto(link_in(claim_mail, "/claims/"))
        assert "Voor locatie West" in giver_page.content()
        giver_page.get_by_role("button", name="Accept", exact=True).click()
        giver_page.get_by_text("The claim is accepted").wait_for()

        # B gets the address (and a calendar file when a date was agreed).
        accepted = mailbox.wait_for(taker, "Your claim is accepted")
        assert street in text_of(accepted)
        taker_page.goto(link_in(accepted, "/claims/"))
        assert street in taker_page.content()
        taker_page.get_by_label("Message", exact=True).fill("Ik kom donderdag om tien uur.")
        taker_page.get_by_role("button", name="Send message").click()
        note = mailbox.wait_for(giver, "New message about Rolstoelen")
        assert "donderdag om tien uur" in text_of(note)

        # B marks it collected; both sides are thanked with what it saved.
        taker_page.get_by_role("button", name="Mark as collected").click()
        taker_page.get_by_text("Marked as collected.").wait_for()
        assert "30 kg" in text_of(mailbox.wait_for(taker, "Handed over: Rolstoelen"))
        mailbox.wait_for(giver, "Handed over: Rolstoelen")
        with app.app_context():
            claim = db.session.query(Claim).one()
            assert claim.status is ClaimStatus.COLLECTED
            listing = db.session.query(Listing).one()
            assert (listing.quantity, listing.quantity_available, len(listing.photos)) == \
                (3, 1, 2)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(pages):
            stem = ARTIFACTS / f"{request.node.name}-{index}"
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content())
        raise
