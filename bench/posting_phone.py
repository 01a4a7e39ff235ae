"""Posting a listing from a phone with three 12-megapixel photos, in a real browser (issue 17).

Debian's Chromium through Playwright, a 390x844 viewport, JavaScript on, Dutch, against a live
server on loopback (a temporary instance with a fresh SQLite database). A member opens the form,
fills in what publishing asks for, chooses three 4000x3000 phone photos (made at start: like a
phone's, 3-4 MB with EXIF orientation 6, or with --photos noise 12 MB of grain each) and
publishes. Prints the fields touched and taps, the bytes sent (request bodies as the server
received them, from opening the form to the published page), and the time from opening the form
to the published page: on loopback, and with a 5 Mbit/s upload emulated by Chromium (DevTools
Network.emulateNetworkConditions), next to what the bytes alone would take at 5 Mbit/s.

    .venv/bin/python bench/posting_phone.py [--runs N] [--photos phone|noise]
    # N defaults to 3 (median, and every run); photos: phone-like (default) or 12 MB of grain
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser"), str(ROOT / "bench"),
                str(ROOT)]  # tests/conftest before tests/browser/conftest

from browser_helpers import CHROMIUM, VIEWPORTS, free_port  # noqa: E402
from conftest import _copy_sqlite_template, test_config  # noqa: E402
from helpers import PASSWORD  # noqa: E402
from phone_photos import make_phone_photos  # noqa: E402
from photo_pipeline import make_phone_jpeg  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.models import Language, Organisation, Site, User, UserStatus  # noqa: E402
from marketplace.models.base import utcnow  # noqa: E402
from marketplace.models.organisation import (  # noqa: E402
    OrganisationKind,
    OrganisationStatus,
    Province,
)
from marketplace.services.passwords import hash_password  # noqa: E402

UPLOAD_BITS_PER_SECOND = 5_000_000
PUBLISHED = "Je advertentie is gepubliceerd."
# What a person does, as taps: a text field is one tap (then typing), a list two (open, choose),
# the photo picker five (open it, tick three photos, confirm), publishing one.
STEPS = [("Titel", "fill", "Douchestoelen"),
         ("Beschrijving", "fill", "Zes douchestoelen, schoongemaakt."),
         ("Categorie", "select", None), ("Staat", "select", None),
         ("Aantal", "fill", "6")]
TAPS = {"fill": 1, "select": 2, "photos": 5, "publish": 1}


class BodyBytes:
    """WSGI middleware: the request bodies' bytes (Content-Length) the server received. The
    browser's own record leaves out bodies made of files (Playwright's post_data is empty)."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.total = 0

    def __call__(self, environ, start_response):
        self.total += int(environ.get("CONTENT_LENGTH") or 0)
        return self.wsgi_app(environ, start_response)


def start_server(folder: Path) -> tuple[str, object, BodyBytes]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    _copy_sqlite_template(folder / "test.sqlite")
    app = create_app(test_config(folder, BASE_URL=base_url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        organisation = Organisation(name="Zorggroep West", kind=OrganisationKind.HOSPITAL,
                                    status=OrganisationStatus.ACTIVE, trusted=True)
        organisation.sites.append(Site(name="Hoofdlocatie", street="Zorgweg 1", postcode="3511 AB",
                                       city="Utrecht", province=Province.UTRECHT))
        db.session.add(User(email="fatima@west.example.org", name="Fatima Foto",
                            password_hash=hash_password(PASSWORD), organisation=organisation,
                            language=Language.NL, status=UserStatus.ACTIVE,
                            email_confirmed_at=utcnow()))
        db.session.commit()
    counter = app.wsgi_app = BodyBytes(app.wsgi_app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return base_url, server, counter


def post_once(browser, base_url: str, counter: BodyBytes, photos: list[Path],
              throttled: bool) -> dict[str, float]:
    """One listing posted; the figures of that run."""
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("E-mailadres").fill("fatima@west.example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{base_url}/")
    if throttled:
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BITS_PER_SECOND / 8})
    taps = fields = 0
    before = counter.total
    started = time.perf_counter()
    page.goto(f"{base_url}/listings/new")
    for label, kind, value in STEPS:
        control = page.get_by_label(label, exact=True)
        if kind == "fill":
            control.fill(value)
        else:
            control.select_option(index=1)
        fields, taps = fields + 1, taps + TAPS[kind]
    page.locator("input[type='file'][name='photos']").set_input_files([str(p) for p in photos])
    fields, taps = fields + 1, taps + TAPS["photos"]
    page.wait_for_function("""() => document.querySelectorAll(
        "[data-photo-list] input[name='staged_photo']").length === 3
        && !document.querySelector("form [type='submit'][disabled]")""", timeout=120_000)
    page.get_by_role("button", name="Publiceren").click()
    taps += TAPS["publish"]
    page.get_by_text(PUBLISHED).wait_for()
    elapsed = time.perf_counter() - started
    context.close()
    return {"seconds": elapsed, "bytes": counter.total - before, "fields": fields, "taps": taps}


def phone_photos(folder: Path) -> list[Path]:
    """Three distinct phone-like JPEGs (their grain is random), held upright (orientation 6)."""
    paths = [folder / f"PXL_2026120{index}.jpg" for index in range(1, 4)]
    for path in paths:
        path.write_bytes(make_phone_jpeg())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photos", choices=("phone", "noise"), default="phone",
                        help="phone: like a phone's (3-4 MB, EXIF orientation 6, as in "
                             "photo_pipeline.py); noise: 12 MB of grain each, the worst case")
    arguments = parser.parse_args()
    runs = arguments.runs
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        photos = make_phone_photos(Path(folder), 3) if arguments.photos == "noise" \
            else phone_photos(Path(folder))
        size = sum(path.stat().st_size for path in photos)
        print(f"three photos of 4000x3000 ({arguments.photos}), {size / 1e6:.1f} MB together")
        base_url, server, counter = start_server(Path(folder))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for throttled in (False, True):
                results = [post_once(browser, base_url, counter, photos, throttled)
                           for _ in range(runs)]
                report(results, throttled)
            browser.close()
        server.shutdown()


def report(results: list[dict[str, float]], throttled: bool) -> None:
    seconds = [result["seconds"] for result in results]
    sent = statistics.median(result["bytes"] for result in results)
    label = "5 Mbit/s upload (emulated)" if throttled else "loopback"
    print(f"{label:27} form to published page: median {statistics.median(seconds):5.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in seconds)}); sent {sent / 1e6:.2f} MB "
          f"(at 5 Mbit/s alone: {sent * 8 / UPLOAD_BITS_PER_SECOND:.1f} s); "
          f"{results[0]['fields']} fields touched, {results[0]['taps']} taps")


if __name__ == "__main__":
    main()
