"""Shared by the browser tests: a live server on loopback, a real SMTP server, Chromium.

The fixtures are in conftest.py; the functions and classes here are imported by the tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"



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
        """The first message to `to` whose subject, or the headline it starts with (the emails
        of one claim share a subject), holds `subject_part`."""
        def find() -> email.message.EmailMessage | None:
            return next((message for message in self.messages
                         if to in message["To"] and (subject_part in message["Subject"]
                                                     or subject_part in headline(message))),
                        None)

        with self.arrived:
            self.arrived.wait_for(lambda: find() is not None, timeout)
        found = find()
        assert found is not None, f"no mail to {to} about {subject_part!r}; got " + \
            repr([(m["To"], m["Subject"]) for m in self.messages])
        return found


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def headline(message: email.message.EmailMessage) -> str:
    return text_of(message).strip().split("\n", 1)[0]


def link_in(message: email.message.EmailMessage, fragment: str) -> str:
    return next(url for url in re.findall(r"https?://\S+", text_of(message)) if fragment in url)


# The login form's words: the address field, the password field, the button.
LOGIN_WORDS = {"en": ("Email address", "Password", "Log in"),
               "nl": ("E-mailadres", "Wachtwoord", "Inloggen")}


def log_in(page, base_url: str, address: str, language: str = "en",
           password: str = PASSWORD) -> None:
    """Log in as `address` on a page whose browser speaks `language`."""
    address_label, password_label, button = LOGIN_WORDS[language]
    page.goto(f"{base_url}/auth/login")
    page.get_by_label(address_label).fill(address)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{base_url}/")


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def dutch_phone_page(browser, base_url: str, address: str, javascript: bool = True):
    """A new page in a Dutch phone browser (JavaScript on or off), logged in as `address`."""
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"],
                                  java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, base_url, address, "nl")
    return page


def show_filters(page) -> None:
    """Unfold the search page's filters ("Filters (N)") where they are folded: on a phone."""
    toggle = page.locator("summary.filter-toggle")
    if toggle.is_visible() and not page.locator("details.filter-panel").evaluate("d => d.open"):
        toggle.click()


def keep_artifacts(request, pages) -> None:
    """On failure: a screenshot and the HTML of every page, for the CI artefacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    for index, page in enumerate(pages):
        stem = ARTIFACTS / f"{request.node.name}-{index}"
        page.screenshot(path=f"{stem}.png", full_page=True)
        Path(f"{stem}.html").write_text(page.content())


def assert_fits_the_screen(page) -> None:
    """No horizontal scrolling: the page is as wide as the screen (phones included)."""
    page.wait_for_load_state()  # a page still navigating has no document to measure
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


# --- Accessibility (issue 6): axe-core, vendored under vendor/ (no CDN) ---
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ACCESSIBILITY_CHECKED: set[str] = set()  # every URL check_accessibility looked at, for coverage
BLOCKING_IMPACTS = ("serious", "critical")


def check_accessibility(page) -> None:
    """Run axe-core on the page; fail listing every serious or critical violation.

    The script is evaluated through the DevTools protocol (page.evaluate), which the app's CSP
    (script-src 'self', no inline script) does not govern, so contexts need no bypass_csp."""
    page.wait_for_load_state()
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                count: v.nodes.length}));
        }""")
    ACCESSIBILITY_CHECKED.add(page.url.split("#")[0])
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} ({v['count']} nodes, e.g. {v['targets']})"
        for v in blocking)


def fill_device_passport(page, manufacturer: str, model: str, year: int,
                         last_maintenance: str | None = None) -> None:
    """What an English posting form asks of a medical device (walkers and wheelchairs, care
    beds: services/device_passports.DEFAULT_MEDICAL_CATEGORIES)."""
    page.get_by_label("Manufacturer", exact=True).fill(manufacturer)
    page.get_by_label("Model", exact=True).fill(model)
    page.get_by_label("Year of manufacture", exact=True).fill(str(year))
    if last_maintenance:
        page.get_by_label("Last maintenance on", exact=True).fill(last_maintenance)
